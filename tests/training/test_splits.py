"""Splits, k-core filtering, de-duplication and dataset building on tiny hand-made data."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from core.interactions import InteractionLog
from training.data import splits
from training.data.dataset import SplitSpec, build_dataset
from training.data.filtering import deduplicate, k_core
from training.data.types import Interactions, LoadedData


def make(users: list[int], items: list[int], timestamps: list[int] | None = None,
         ratings: list[float] | None = None) -> Interactions:
    return Interactions(np.array(users, dtype=np.int64), np.array(items, dtype=np.int64),
                        None if ratings is None else np.array(ratings, dtype=np.float32),
                        None if timestamps is None else np.array(timestamps, dtype=np.int64))


def rows(inter: Interactions | None) -> list[tuple[int, ...]]:
    if inter is None:
        return []
    cols = [inter.users, inter.items] + ([inter.timestamps] if inter.timestamps is not None else [])
    return sorted(zip(*(c.tolist() for c in cols)))


def assert_partition(original: Interactions, split: splits.Split) -> None:
    """Every row lands in exactly one part."""
    parts = rows(split.train) + rows(split.valid) + rows(split.test)
    assert Counter(parts) == Counter(rows(original))


# ------------------------------------------------------------------------------------ leave-one-out

# user 0: items 0..3 at times 30, 10, 50, 20 -> test item 2 (t=50), valid item 0 (t=30)
# user 1: 2 rows -> too short for test + valid + 1 train row: stays in train
# user 2: items 7, 8, 9 at times 1, 7, 7 -> tie at 7 broken by input order: test 9, valid 8
LOO = make(users=[0, 0, 1, 2, 0, 2, 1, 0, 2],
           items=[0, 1, 5, 7, 2, 8, 6, 3, 9],
           timestamps=[30, 10, 3, 1, 50, 7, 4, 20, 7])


def test_leave_one_out_latest_is_test_second_latest_is_valid() -> None:
    split = splits.leave_one_out(LOO)
    assert rows(split.test) == [(0, 2, 50), (2, 9, 7)]
    assert rows(split.valid) == [(0, 0, 30), (2, 8, 7)]
    assert rows(split.train) == [(0, 1, 10), (0, 3, 20), (1, 5, 3), (1, 6, 4), (2, 7, 1)]
    assert_partition(LOO, split)


def test_leave_one_out_without_valid_and_min_train() -> None:
    split = splits.leave_one_out(LOO, with_valid=False)
    assert split.valid is None
    # user 1 (2 rows) is now long enough: its latest (item 6, t=4) is the test row
    assert rows(split.test) == [(0, 2, 50), (1, 6, 4), (2, 9, 7)]
    assert_partition(LOO, split)
    # min_train=3 with a valid row needs 2 + 3 = 5 rows: nobody has that many (user 0 has 4)
    strict = splits.leave_one_out(LOO, with_valid=True, min_train=3)
    assert len(strict.test) == 0 and len(strict.valid) == 0 and len(strict.train) == len(LOO)
    # min_train=2 with a valid row needs 2 + 2 = 4 rows: user 0 only
    two = splits.leave_one_out(LOO, with_valid=True, min_train=2)
    assert rows(two.test) == [(0, 2, 50)] and rows(two.valid) == [(0, 0, 30)]


def test_leave_one_out_without_timestamps_uses_input_order() -> None:
    inter = make(users=[0, 1, 0, 0, 1, 1], items=[4, 1, 3, 2, 5, 0])
    split = splits.leave_one_out(inter)
    # user 0 in input order: 4, 3, 2 -> test 2, valid 3 ; user 1: 1, 5, 0 -> test 0, valid 5
    assert rows(split.test) == [(0, 2), (1, 0)]
    assert rows(split.valid) == [(0, 3), (1, 5)]
    assert rows(split.train) == [(0, 4), (1, 1)]


# ----------------------------------------------------------------------------------------- temporal

def test_temporal_global_cut() -> None:
    rng = np.random.default_rng(1)
    n = 20
    ts = rng.permutation(np.arange(100, 100 + n))
    inter = make(users=(np.arange(n) % 4).tolist(), items=np.arange(n).tolist(), timestamps=ts.tolist())
    split = splits.temporal(inter, test_ratio=0.2, valid_ratio=0.1)
    # round(20 * 0.2) = 4 test rows, round(20 * 0.1) = 2 valid rows, 14 train rows
    assert (len(split.train), len(split.valid), len(split.test)) == (14, 2, 4)
    assert split.train.timestamps.max() <= split.valid.timestamps.min()
    assert split.valid.timestamps.max() <= split.test.timestamps.min()
    # the 4 latest times 116..119 are the test rows, 114..115 valid
    assert sorted(split.test.timestamps.tolist()) == [116, 117, 118, 119]
    assert sorted(split.valid.timestamps.tolist()) == [114, 115]
    assert_partition(inter, split)


def test_temporal_without_valid() -> None:
    inter = make(users=[0] * 10, items=list(range(10)), timestamps=list(range(10, 0, -1)))
    split = splits.temporal(inter, test_ratio=0.3, valid_ratio=0.0)
    assert split.valid is None
    # latest 3 times are 10, 9, 8 -> items 0, 1, 2
    assert sorted(split.test.items.tolist()) == [0, 1, 2]
    assert_partition(inter, split)


def test_temporal_needs_timestamps_and_sane_ratios() -> None:
    with pytest.raises(ValueError, match="timestamps"):
        splits.temporal(make([0, 1], [0, 1]))
    timed = make([0, 1], [0, 1], [1, 2])
    for test_ratio, valid_ratio in [(0.0, 0.1), (0.6, 0.5), (1.0, 0.0), (0.2, -0.1)]:
        with pytest.raises(ValueError, match="ratios"):
            splits.temporal(timed, test_ratio, valid_ratio)


# ------------------------------------------------------------------------------------------ random

def _random_input() -> Interactions:
    # users 0, 1, 2 with 10 rows each, user 3 with 4 rows; items unique per row
    users = [0] * 10 + [1] * 10 + [2] * 10 + [3] * 4
    return make(users=users, items=list(range(len(users))))


def test_random_ratio_per_user_proportions() -> None:
    inter = _random_input()
    split = splits.random_ratio(inter, test_ratio=0.2, valid_ratio=0.1, seed=5)
    # users 0-2 have 10 rows: 10 * 0.2 = 2 test and 10 * 0.1 = 1 valid exactly, 7 train.
    # user 3 has 4 rows: 0.8 test and 0.4 valid, each rounded up or down at random.
    test, valid, train = (Counter(part.users.tolist()) for part in (split.test, split.valid, split.train))
    assert [test[u] for u in (0, 1, 2)] == [2, 2, 2]
    assert [valid[u] for u in (0, 1, 2)] == [1, 1, 1]
    assert [train[u] for u in (0, 1, 2)] == [7, 7, 7]
    assert test[3] in (0, 1) and valid[3] in (0, 1) and train[3] == 4 - test[3] - valid[3]
    assert_partition(inter, split)


def test_random_ratio_keeps_shares_for_short_histories() -> None:
    # 2,000 users with 4 rows each: flooring would give an empty test set; stochastic rounding
    # gives ~20% / ~10% overall and never takes a user's last training row.
    users = np.repeat(np.arange(2000), 4)
    inter = make(users=users.tolist(), items=(np.arange(len(users)) % 50).tolist())
    split = splits.random_ratio(inter, test_ratio=0.2, valid_ratio=0.1, seed=1)
    assert abs(len(split.test) / len(inter) - 0.2) < 0.02
    assert abs(len(split.valid) / len(inter) - 0.1) < 0.02
    assert set(split.train.users.tolist()) == set(range(2000))
    single = splits.random_ratio(make(users=[0], items=[0]), test_ratio=0.5, valid_ratio=0.4, seed=0)
    assert len(single.train) == 1 and len(single.test) == 0


def test_random_ratio_deterministic_by_seed() -> None:
    inter = _random_input()
    a = splits.random_ratio(inter, seed=11)
    b = splits.random_ratio(inter, seed=11)
    c = splits.random_ratio(inter, seed=12)
    assert rows(a.test) == rows(b.test) and rows(a.valid) == rows(b.valid) and rows(a.train) == rows(b.train)
    assert rows(a.test) != rows(c.test)


# ---------------------------------------------------------------------------------------- holdout

def test_holdout_one_per_user() -> None:
    # user 0: 5 rows, user 1: 3 rows, user 2: 2 rows (not more than min_left=2 -> nothing held out)
    users = [0, 1, 0, 2, 0, 1, 0, 2, 1, 0]
    inter = make(users=users, items=list(range(10)))
    train, valid = splits.holdout_one_per_user(inter, seed=3)
    assert sorted(valid.users.tolist()) == [0, 1]
    assert Counter(train.users.tolist()) == {0: 4, 1: 2, 2: 2}
    for user, item in zip(valid.users.tolist(), valid.items.tolist()):
        assert users[item] == user  # the held-out row is one of that user's own rows
    assert sorted(train.items.tolist() + valid.items.tolist()) == list(range(10))
    again_train, again_valid = splits.holdout_one_per_user(inter, seed=3)
    assert rows(again_valid) == rows(valid) and rows(again_train) == rows(train)
    _, stricter = splits.holdout_one_per_user(inter, seed=3, min_left=3)
    assert stricter.users.tolist() == [0]  # only user 0 has more than 3 rows


# ------------------------------------------------------------------------------------------ k-core

def log(pairs: list[tuple[str, str]], timestamps: list[int] | None = None) -> InteractionLog:
    return InteractionLog(np.array([u for u, _ in pairs]), np.array([i for _, i in pairs]),
                          None, None if timestamps is None else np.array(timestamps, dtype=np.int64))


def test_k_core_iterates_to_fixed_point() -> None:
    # k = 2. Round 1: items D and E have one row each -> their rows go.
    # Round 2: u3 and u4 are then left with C only (1 row each) -> they go too.
    # A single pass would keep (u3, C) and (u4, C).
    pairs = [("u1", "A"), ("u1", "B"), ("u2", "A"), ("u2", "B"),
             ("u3", "C"), ("u3", "D"), ("u4", "C"), ("u4", "E")]
    out = k_core(log(pairs), 2)
    assert sorted(zip(out.user_ids.tolist(), out.item_ids.tolist())) == pairs[:4]
    assert min(Counter(out.user_ids.tolist()).values()) >= 2
    assert min(Counter(out.item_ids.tolist()).values()) >= 2


def test_k_core_k1_keeps_everything() -> None:
    pairs = [("u1", "A"), ("u2", "B")]
    assert len(k_core(log(pairs), 1)) == 2
    assert len(k_core(log(pairs), 2)) == 0


# ------------------------------------------------------------------------------------- deduplicate

def test_deduplicate_keeps_latest_row_per_pair() -> None:
    inter = make(users=[0, 0, 0, 1, 1, 2],
                 items=[1, 1, 1, 2, 2, 0],
                 timestamps=[10, 30, 20, 5, 5, 1],
                 ratings=[1, 5, 3, 2, 4, 3])
    out = deduplicate(inter, n_items=3)
    # (0,1): latest t=30 -> rating 5 ; (1,2): tie at t=5 -> later input row, rating 4 ; (2,0) alone
    assert out.users.tolist() == [0, 1, 2]
    assert out.items.tolist() == [1, 2, 0]
    assert out.ratings.tolist() == [5.0, 4.0, 3.0]
    assert out.timestamps.tolist() == [30, 5, 1]


def test_deduplicate_without_timestamps_keeps_last_input_row() -> None:
    inter = make(users=[0, 1, 0], items=[2, 2, 2], ratings=[1, 2, 3])
    out = deduplicate(inter, n_items=3)
    assert sorted(zip(out.users.tolist(), out.ratings.tolist())) == [(0, 3.0), (1, 2.0)]


# ---------------------------------------------------------------------------------- build_dataset

def _loaded_plain() -> LoadedData:
    pairs = [("u2", "i9"), ("u10", "i1"), ("u1", "i9"), ("u2", "i1"), ("u10", "i5"),
             ("u1", "i5"), ("u2", "i5"), ("u10", "i9"), ("u1", "i1")]
    return LoadedData(log(pairs, timestamps=list(range(len(pairs)))), source="toy")


def test_build_dataset_ids_sorted_and_mapped() -> None:
    loaded = _loaded_plain()
    ds = build_dataset(loaded, SplitSpec(method="loo"))
    assert ds.user_ids.tolist() == ["u1", "u10", "u2"]  # sorted (as strings)
    assert ds.item_ids.tolist() == ["i1", "i5", "i9"]
    original = set(zip(loaded.interactions.user_ids.tolist(), loaded.interactions.item_ids.tolist()))
    mapped = set()
    for part in (ds.train, ds.valid, ds.test):
        mapped |= set(zip(ds.user_ids[part.users].tolist(), ds.item_ids[part.items].tolist()))
    assert mapped == original
    # each user has 3 rows; the latest is test: u1 -> i1 (t=8), u10 -> i9 (t=7), u2 -> i5 (t=6)
    test = sorted(zip(ds.user_ids[ds.test.users].tolist(), ds.item_ids[ds.test.items].tolist()))
    assert test == [("u1", "i1"), ("u10", "i9"), ("u2", "i5")]
    assert ds.info["split"] == "loo"


def _loaded_given() -> LoadedData:
    train = log([("a", "x"), ("a", "y"), ("a", "z"), ("b", "x"), ("b", "y"), ("c", "z")])
    test = log([("a", "w"), ("b", "z"), ("c", "x")])  # item w never appears in train
    return LoadedData(train, source="toy-given", given_test=test)


def test_build_dataset_given_split_keeps_files_and_drops_unseen_test_items() -> None:
    ds = build_dataset(_loaded_given(), SplitSpec(method="given", with_valid=False))
    assert ds.item_ids.tolist() == ["w", "x", "y", "z"]  # test-only item still gets an index
    train = sorted(zip(ds.user_ids[ds.train.users].tolist(), ds.item_ids[ds.train.items].tolist()))
    assert train == [("a", "x"), ("a", "y"), ("a", "z"), ("b", "x"), ("b", "y"), ("c", "z")]
    test = sorted(zip(ds.user_ids[ds.test.users].tolist(), ds.item_ids[ds.test.items].tolist()))
    assert test == [("b", "z"), ("c", "x")]  # ("a", "w") dropped
    assert ds.info["test_dropped_unseen_items"] == 1
    assert ds.info["split"] == "given"
    assert ds.valid is None


def test_build_dataset_given_split_with_valid_holds_out_from_train_only() -> None:
    ds = build_dataset(_loaded_given(), SplitSpec(method="given", with_valid=True, seed=0))
    # only user a has more than 2 training rows -> exactly one of a's rows is held out
    assert ds.user_ids[ds.valid.users].tolist() == ["a"]
    assert len(ds.train) == 5
    assert len(ds.test) + ds.info["test_dropped_unseen_items"] == 3


def test_build_dataset_refuses_loo_on_given_split() -> None:
    with pytest.raises(ValueError, match=r"toy-given carries its own train/test split; use split 'given', not 'loo'"):
        build_dataset(_loaded_given(), SplitSpec(method="loo"))
    with pytest.raises(ValueError, match="no train/test files"):
        build_dataset(_loaded_plain(), SplitSpec(method="given"))
    with pytest.raises(ValueError, match="unknown split"):
        build_dataset(_loaded_plain(), SplitSpec(method="bogus"))


def test_build_dataset_fingerprint() -> None:
    a = build_dataset(_loaded_plain(), SplitSpec(method="loo"))
    b = build_dataset(_loaded_plain(), SplitSpec(method="loo"))
    assert len(a.fingerprint) == 16 and a.fingerprint == b.fingerprint
    more = _loaded_plain()
    extra = log([("u3", "i1")] + list(zip(more.interactions.user_ids.tolist(), more.interactions.item_ids.tolist())),
                timestamps=[-1] + more.interactions.timestamps.tolist())
    c = build_dataset(LoadedData(extra, source="toy"), SplitSpec(method="loo"))
    assert c.fingerprint != a.fingerprint
    # a different split of the same data trains on different rows -> different fingerprint
    d = build_dataset(_loaded_plain(), SplitSpec(method="loo", with_valid=False))
    assert d.fingerprint != a.fingerprint


def test_build_dataset_k_core_counts_distinct_interactions() -> None:
    # build_dataset documents "de-duplicate, optionally k-core filter": u3 has the same item twice,
    # so after de-duplication it has 1 interaction and must not survive a 2-core.
    pairs = [("u1", "A"), ("u1", "B"), ("u2", "A"), ("u2", "B"), ("u3", "A"), ("u3", "A")]
    loaded = LoadedData(log(pairs, timestamps=list(range(len(pairs)))), source="toy")
    ds = build_dataset(loaded, SplitSpec(method="loo", with_valid=False), min_core=2)
    assert ds.user_ids.tolist() == ["u1", "u2"]


def test_build_dataset_given_drops_test_users_unseen_in_train() -> None:
    # build_dataset documents: "Test users/items unseen in training are dropped from the test set".
    train = log([("a", "x"), ("a", "y"), ("b", "x")])
    test = log([("a", "x"), ("nobody", "y")])  # user "nobody" has no training row
    ds = build_dataset(LoadedData(train, source="toy", given_test=test), SplitSpec(method="given", with_valid=False))
    assert ds.user_ids[ds.test.users].tolist() == ["a"]
