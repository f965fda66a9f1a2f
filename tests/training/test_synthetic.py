"""Tests of the synthetic Amazon-like generator (training/data/synthetic.py)."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from core.interactions import InteractionLog
from training.data.synthetic import (
    CATEGORIES,
    EVENT_TYPES,
    SyntheticConfig,
    SyntheticData,
    generate,
    write_csv,
)
from training.data.types import LoadedData

SMALL = SyntheticConfig(n_users=1500, n_items=800, n_categories=10, seed=7)


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return generate(SMALL)


def _indexed(data: SyntheticData, log: InteractionLog) -> tuple[np.ndarray, np.ndarray]:
    # Ids are fixed-width and zero-padded, so the id tables are sorted and searchsorted maps back.
    users = np.searchsorted(data.user_ids, log.user_ids)
    return users, np.searchsorted(data.item_ids, log.item_ids)


def _arrays(d: SyntheticData) -> dict[str, np.ndarray]:
    ev = d.events
    return {
        "item_ids": d.item_ids, "user_ids": d.user_ids, "event_id": ev.event_id,
        "user_index": ev.user_index, "item_index": ev.item_index, "event_type": ev.event_type,
        "value": ev.value, "timestamp": ev.timestamp, "item_segment": d.item_segment,
        "item_category": d.item_category, "item_price": d.item_price,
        "user_segments": d.user_segments, "user_weights": d.user_weights,
    }


def test_same_seed_gives_identical_data(data):
    again = generate(SyntheticConfig(n_users=1500, n_items=800, n_categories=10, seed=7))
    a, b = _arrays(data), _arrays(again)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert a[name].tobytes() == b[name].tobytes(), name
    assert data.catalogue == again.catalogue


def test_different_seed_gives_different_data(data):
    other = generate(SyntheticConfig(n_users=1500, n_items=800, n_categories=10, seed=8))
    assert not np.array_equal(data.item_segment, other.item_segment)
    assert data.catalogue.titles != other.catalogue.titles
    n = min(len(data.events), len(other.events))
    assert not np.array_equal(data.events.item_index[:n], other.events.item_index[:n])


def test_catalogue_does_not_depend_on_number_of_users(data):
    more = generate(SyntheticConfig(n_users=500, n_items=800, n_categories=10, seed=7))
    assert more.catalogue == data.catalogue
    assert np.array_equal(more.item_segment, data.item_segment)


def test_shapes_dtypes_and_id_formats(data):
    assert data.item_ids.shape == (800,) and data.user_ids.shape == (1500,)
    assert all(re.fullmatch(r"P\d{7}", s) for s in data.item_ids.tolist())
    assert all(re.fullmatch(r"U\d{7}", s) for s in data.user_ids.tolist())
    assert np.all(data.item_ids[:-1] < data.item_ids[1:])  # unique and sorted
    ev = data.events
    n = len(ev)
    for name, dtype in [("event_id", np.int64), ("user_index", np.int32), ("item_index", np.int32),
                        ("event_type", np.int8), ("value", np.float32), ("timestamp", np.int64)]:
        arr = getattr(ev, name)
        assert arr.shape == (n,) and arr.dtype == dtype, name
    assert np.array_equal(ev.event_id, np.arange(1, n + 1))
    assert re.fullmatch(r"E\d{9}", ev.event_id_strings()[0])
    assert EVENT_TYPES == ("view", "click", "add_to_cart", "purchase", "rating")
    assert set(ev.event_type_names.tolist()) == set(EVENT_TYPES)
    assert np.all(np.diff(ev.timestamp) >= 0)  # the log is in time order
    assert set(ev.user_ids[:5].tolist()) <= set(data.user_ids.tolist())
    assert data.item_segment.shape == (800,) and data.item_segment.max() < SMALL.n_segments
    assert np.array_equal(data.item_category, data.item_segment // SMALL.segments_per_category)
    assert data.user_segments.shape == (1500, SMALL.taste_segments_per_user)
    assert np.allclose(data.user_weights.sum(axis=1), 1.0, atol=1e-5)
    assert "synthetic:seed=7" in repr(data)


def test_implicit_interactions(data):
    log = data.interactions("implicit")
    assert log.ratings is None and log.timestamps.dtype == np.int64
    u, i = _indexed(data, log)
    assert len(np.unique(u * 800 + i)) == len(log)  # one row per distinct pair
    counts = np.bincount(u, minlength=1500)
    assert counts.min() >= 1 and np.mean(counts >= 5) > 0.9  # 5-core keeps most users
    requested = SMALL.mean_interactions_per_user
    assert 0.6 * requested < counts.mean() <= requested  # dedupe costs a little
    assert counts.max() > 3 * counts.mean()  # heavy-tailed activity
    start = SMALL.start_time
    assert log.timestamps.min() >= start and log.timestamps.max() < start + SMALL.span_days * 86_400
    assert np.all(np.diff(log.timestamps) >= 0)
    o = np.lexsort((log.timestamps, u))
    same_user = u[o][1:] == u[o][:-1]
    assert np.all(np.diff(log.timestamps[o])[same_user] > 0)  # strictly increasing per user


def test_power_law_popularity():
    # The default catalogue shape (5,000 items in 160 segments); tiny catalogues are flatter.
    d = generate(SyntheticConfig(n_users=3000, n_items=5000, seed=3))
    items = _indexed(d, d.interactions())[1]
    counts = np.sort(np.bincount(items, minlength=5000))[::-1]
    top = counts[:50].sum() / counts.sum()  # the top 1% of items
    assert top > 0.10, top
    assert counts[2500] < counts[:50].mean() / 20  # the median item is far behind the head


def test_catalogue_is_complete(data):
    cat = data.catalogue
    names = {c[0] for c in CATEGORIES}
    brand_categories: dict[str, set[str]] = {}
    for k, item_id in enumerate(data.item_ids.tolist()):
        title, path = cat.titles[item_id], cat.categories[item_id]
        brand, price = cat.brands[item_id], cat.prices[item_id]
        assert title.startswith(brand + " ") and len(title.split()) >= 3
        assert len(path) == 2 and path[0] in names
        assert path[0] == data.category_names[data.item_category[k]]
        assert isinstance(price, float) and price > 0 and round(price, 2) == price
        brand_categories.setdefault(brand, set()).add(path[0])
    assert len(cat) == 800
    assert max(len(c) for c in brand_categories.values()) <= 3  # a brand sells in a few categories
    assert len(set(cat.titles.values())) == 800
    assert cat.describe(data.item_ids[0])["title"] == cat.titles[data.item_ids[0]]


def test_event_funnel(data):
    ev = data.events
    counts = [ev.counts()[name] for name in EVENT_TYPES]
    assert counts == sorted(counts, reverse=True) and counts[-1] > 0
    key = ev.user_index.astype(np.int64) * 800 + ev.item_index
    per_type = {}
    for code, name in enumerate(EVENT_TYPES):
        m = ev.event_type == code
        assert len(np.unique(key[m])) == m.sum(), name  # at most one event of a type per pair
        per_type[name] = (key[m], ev.timestamp[m])
    for earlier, later in zip(EVENT_TYPES, EVENT_TYPES[1:]):
        k_early, t_early = per_type[earlier]
        k_late, t_late = per_type[later]
        o = np.argsort(k_early)
        pos = np.searchsorted(k_early[o], k_late)
        pos = np.minimum(pos, len(o) - 1)
        assert np.array_equal(k_early[o][pos], k_late), f"{later} without {earlier}"
        assert np.all(t_early[o][pos] < t_late), f"{later} before {earlier}"
    assert np.all(ev.value[ev.event_type != EVENT_TYPES.index("rating")] == 1.0)


def test_explicit_ratings(data):
    exp = data.interactions("explicit")
    assert exp.ratings is not None and exp.ratings.dtype == np.float32
    assert set(np.unique(exp.ratings).tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert len(np.unique(exp.ratings)) >= 4
    u, i = _indexed(data, exp)
    iu, ii = _indexed(data, data.interactions())
    assert np.isin(u * 800 + i, iu * 800 + ii).all()
    # Ratings reflect taste: items of the user's segments score higher than the rest.
    in_taste = (data.user_segments[u] == data.item_segment[i][:, None]).any(axis=1)
    assert exp.ratings[in_taste].mean() > exp.ratings[~in_taste].mean() + 0.5
    purchase = data.interactions("purchase")
    assert len(exp) <= len(purchase) and purchase.ratings is None


def _last_out(data: SyntheticData):
    u, i = _indexed(data, data.interactions())
    o = np.lexsort((data.interactions().timestamps, u))
    u, i = u[o], i[o]
    last = np.r_[u[1:] != u[:-1], True]
    return u, i, last


def test_held_out_items_follow_the_users_taste(data):
    u, i, last = _last_out(data)
    seg = data.item_segment.astype(np.int64)
    n_seg = SMALL.n_segments
    seen = np.unique(u[~last] * n_seg + seg[i[~last]])
    hit = np.isin(u[last] * n_seg + seg[i[last]], seen).mean()
    rng = np.random.default_rng(0)
    random_items = rng.integers(0, len(data.item_ids), size=last.sum())
    chance = np.isin(u[last] * n_seg + seg[random_items], seen).mean()
    assert hit > 0.6 and chance < 0.25 and hit > 3 * chance, (hit, chance)


def test_item_knn_beats_popularity(data):
    """Leave-last-out HR@10: item-item cosine CF must clearly beat most-popular."""
    u, i, last = _last_out(data)
    x = np.zeros((len(data.user_ids), len(data.item_ids)), dtype=np.float32)
    x[u[~last], i[~last]] = 1.0
    pop = x.sum(axis=0)
    norm = np.sqrt(np.maximum(pop, 1.0))
    sim = (x.T @ x) / norm[:, None] / norm[None, :]
    np.fill_diagonal(sim, 0.0)

    def hit_rate(scores: np.ndarray) -> float:
        scores = np.where(x > 0, -np.inf, scores)
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        return float((top[u[last]] == i[last][:, None]).any(axis=1).mean())

    cf, popular = hit_rate(x @ sim), hit_rate(np.broadcast_to(pop, x.shape))
    assert cf > 2 * popular and cf > 0.2, (cf, popular)


def test_to_loaded_and_csv(data, tmp_path):
    loaded = data.to_loaded()
    assert isinstance(loaded, LoadedData)
    assert loaded.source == "synthetic:seed=7,users=1500,items=800"
    assert loaded.catalogue is data.catalogue and len(loaded.interactions) == len(data.interactions())
    assert data.to_loaded("explicit").interactions.ratings is not None

    path = tmp_path / "implicit.csv"
    assert write_csv(data, path) == len(data.interactions())
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["user", "item", "rating", "timestamp"]
    log = data.interactions()
    assert rows[1] == [log.user_ids[0], log.item_ids[0], "", str(log.timestamps[0])]
    assert len(rows) == len(log) + 1

    path = tmp_path / "explicit.csv"
    n = write_csv(data, path, kind="explicit")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    exp = data.interactions("explicit")
    assert n == len(rows) == len(exp)
    written = np.array([float(r["rating"]) for r in rows], dtype=np.float32)
    assert np.array_equal(written, exp.ratings)


def test_invalid_configs_are_rejected():
    with pytest.raises(ValueError):
        generate(SyntheticConfig(n_items=10))  # fewer items than segments
    with pytest.raises(ValueError):
        generate(SyntheticConfig(n_categories=len(CATEGORIES) + 1))
    with pytest.raises(ValueError):
        generate(SyntheticConfig(explore_prob=1.5))
    tiny = generate(SyntheticConfig(n_users=50, n_items=200, n_categories=5))
    with pytest.raises(ValueError, match="unknown event type"):
        tiny.interactions("like")


def test_full_scale_generation():
    """The quickstart size: 100k users x 50k items in seconds, >= 1.5M interactions."""
    big = generate(SyntheticConfig(n_users=100_000, n_items=50_000))
    n = big.events.counts()["view"]
    assert n >= 1_500_000
    assert len(big.user_ids) == 100_000 and len(big.catalogue.titles) == 50_000
    assert len(np.unique(big.events.user_index)) == 100_000
