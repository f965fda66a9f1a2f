"""Candidates precomputed at training time answer exactly what a scan of every item answers, for
any user whose vector is still the trained one, with exclusions and filters; they step aside
(None, then a scan) wherever they could not be exact. Exact means to float32's rounding, as in
test_coarse_scan.py: items whose scores differ by less than TIE may come in either order."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from core.artifact import SeenItems, open_artifact
from core.errors import ArtifactError
from core.filters import ItemFilter
from services.common.metrics import RETRIEVAL_ANSWERS
from services.retrieval.index import ItemIndex
from services.retrieval.main import load_index
from services.retrieval.precomputed import PrecomputedCandidates
from services.retrieval.retriever import Retriever
from training.candidates import attach_candidates, candidate_dtype, precompute_candidates

TIE = 1e-4
N_USERS, N_ITEMS, DIM, PER_USER = 300, 3_000, 32, 64
CATEGORIES = ("books", "garden", "toys")


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(7)
    users = rng.standard_normal((N_USERS, DIM), dtype=np.float32)
    items = rng.standard_normal((N_ITEMS, DIM), dtype=np.float32)
    pairs = [(u, i) for u in range(N_USERS) for i in rng.choice(N_ITEMS, size=rng.integers(0, 40), replace=False)]
    seen = SeenItems.from_pairs(np.array([u for u, _ in pairs]), np.array([i for _, i in pairs]), N_USERS,
                                np.ones(N_ITEMS))
    item_ids = [f"P{i:05d}" for i in range(N_ITEMS)]
    catalogue = {item: {"categories": [CATEGORIES[i % 3]]} for i, item in enumerate(item_ids)}
    index = ItemIndex(item_ids, items, catalogue=catalogue, coarse=False)
    rows = precompute_candidates(users, items, seen, PER_USER, chunk_users=64)
    index.precomputed = PrecomputedCandidates([f"U{u:04d}" for u in range(N_USERS)], users, rows, seen,
                                              index.vectors.numpy())
    return {"users": users, "items": items, "seen": seen, "index": index, "rows": rows}


def _truth(world, user: int, exclude: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    truth = world["items"].astype(np.float64) @ world["users"][user].astype(np.float64)
    truth[exclude] = -np.inf
    if allowed is not None:
        truth[~allowed] = -np.inf
    return truth


def _assert_exact(hits, truth: np.ndarray, k: int) -> None:
    best = np.sort(truth[np.isfinite(truth)])[::-1]
    got = truth[hits.indices]
    assert len(hits.indices) == k and np.isfinite(got).all()
    assert (got >= best[k - 1] - TIE).all() and (np.diff(got) <= TIE).all()
    np.testing.assert_allclose(hits.scores, got, atol=TIE)


def test_rows_are_each_users_top_unseen_items_best_first(world):
    rows, seen = world["rows"], world["seen"]
    assert rows.shape == (N_USERS, PER_USER) and rows.dtype == np.uint16
    for user in range(0, N_USERS, 7):
        truth = world["items"].astype(np.float64) @ world["users"][user].astype(np.float64)
        truth[seen.of(user)] = -np.inf
        got = truth[rows[user].astype(np.int64)]
        assert np.isfinite(got).all() and (np.diff(got) <= TIE).all()
        assert got[-1] >= np.sort(truth)[::-1][PER_USER - 1] - TIE


def test_the_same_answers_as_the_scan_with_exclusions_and_filters(world):
    index, rng = world["index"], np.random.default_rng(1)
    looked_up = 0
    for user in range(N_USERS):
        extra = rng.choice(N_ITEMS, size=rng.integers(0, 30), replace=False)
        exclude = np.union1d(world["seen"].of(user), extra).astype(np.int64)
        item_filter = ItemFilter(categories=("books", "toys")) if user % 3 == 0 else ItemFilter()
        allowed = index.attributes.mask(item_filter)
        k = int(rng.choice([1, 10, 20]))
        hits = index.precomputed.hits(f"U{user:04d}", world["users"][user], k, exclude, allowed)
        if hits is not None:
            looked_up += 1
            _assert_exact(hits, _truth(world, user, exclude, allowed), k)
            scanned = index.search(world["users"][user], k, [exclude], item_filter)[0]
            np.testing.assert_allclose(hits.scores, scanned.scores, atol=TIE)
    assert looked_up >= N_USERS * 0.95  # 64 per user leave room for these exclusions and filters


def test_it_steps_aside_wherever_it_could_not_be_exact(world):
    precomputed, users, seen = world["index"].precomputed, world["users"], world["seen"]
    user = next(u for u in range(N_USERS) if len(seen.of(u)) >= 2)
    trained_items = seen.of(user).astype(np.int64)
    ask = lambda vector=users[user], k=10, exclude=trained_items, allowed=None, name=f"U{user:04d}": (  # noqa: E731
        precomputed.hits(name, vector, k, exclude, allowed))
    assert ask() is not None
    assert ask(name="U9999") is None  # not a trained user
    assert ask(vector=users[user] + np.float32(1e-3)) is None  # fresh interactions changed the vector
    assert ask(exclude=trained_items[1:]) is None  # a training item is allowed back in: the row lacks it
    assert ask(k=PER_USER + 1) is None  # more than a row holds
    many = np.union1d(trained_items, world["rows"][user][: PER_USER - 5].astype(np.int64))
    assert ask(exclude=many) is None  # too few left after the exclusions
    only_first = np.zeros(N_ITEMS, dtype=bool)
    only_first[world["rows"][user][:3]] = True
    assert ask(allowed=only_first) is None  # too few pass the filter


def test_the_index_dtype_widens_for_large_catalogues():
    assert candidate_dtype(65_535) == np.uint16 and candidate_dtype(65_536) == np.int32


def test_retriever_answers_trained_users_from_the_rows_and_others_by_scan(world):
    asyncio.run(_retriever_answers(world))


async def _retriever_answers(world) -> None:
    retriever = Retriever()
    retriever.load(world["index"], "v1")
    counted = lambda how: RETRIEVAL_ANSWERS.labels(answered_by=how)._value.get()  # noqa: E731
    before = {how: counted(how) for how in ("precomputed", "scan")}
    user = 5
    exclude = [world["index"].item_ids[i] for i in world["seen"].of(user)]
    looked_up = await retriever.retrieve(world["users"][user], 20, exclude, ItemFilter(), user_id=f"U{user:04d}")
    scanned = await retriever.retrieve(world["users"][user], 20, exclude, ItemFilter())
    assert counted("precomputed") == before["precomputed"] + 1 and counted("scan") == before["scan"] + 1
    np.testing.assert_allclose(looked_up.hits.scores, scanned.hits.scores, atol=TIE)
    with pytest.raises(Exception, match="user_id"):
        await retriever.retrieve(world["users"][user], 20, exclude, ItemFilter(), user_id="U\x00")


def test_training_writes_the_part_and_retrieval_loads_it(publish):
    artifact = open_artifact(publish("lightgcn", "with-candidates"))
    rows = artifact.candidates()
    assert rows.shape == (artifact.n_users, min(256, artifact.n_items))
    index, _ = load_index(artifact.path)
    assert index.precomputed is not None and index.precomputed.per_user == rows.shape[1]
    assert not open_artifact(publish("neumf", "ncf")).has("candidates")


def test_an_older_artifact_gets_the_part_added(publish):
    path = publish("lightgcn", "older")
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["files"]["candidates"]
    (path / "candidates.npy").unlink()
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert load_index(path)[0].precomputed is None
    assert attach_candidates(path, count=32)
    assert open_artifact(path).candidates().shape[1] == 32 and not attach_candidates(path)


def test_rows_that_do_not_fit_the_catalogue_are_refused(publish):
    path = publish("lightgcn", "broken")
    artifact = open_artifact(path)
    np.save(path / "candidates.npy", np.full((artifact.n_users, 4), artifact.n_items, dtype=np.int32))
    with pytest.raises(ArtifactError, match="do not fit"):
        artifact.candidates()
    np.save(path / "candidates.npy", np.zeros((artifact.n_users + 1, 4), dtype=np.int32))
    with pytest.raises(ArtifactError, match="do not fit"):
        artifact.candidates()
