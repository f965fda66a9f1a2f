"""Train/validation/test splits on indexed interactions (vectorised, no per-user loops)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.data.types import Interactions

SPLITS = ("loo", "temporal", "random", "given")


@dataclass(frozen=True)
class Split:
    train: Interactions
    valid: Interactions | None
    test: Interactions


def _rank_from_end(users: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows visited in ``order`` (grouped by user), each row's rank counted from the user's last
    row (0 = last) and the user's row count."""
    sorted_users = users[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_users)) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    group_end = np.repeat(starts + counts, counts)
    rank_sorted = group_end - 1 - np.arange(len(order))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = rank_sorted
    user_count = np.empty(len(order), dtype=np.int64)
    user_count[order] = np.repeat(counts, counts)
    return rank, user_count


def leave_one_out(inter: Interactions, with_valid: bool = True, min_train: int = 1) -> Split:
    """The NCF protocol: each user's latest interaction is the test item; the one before it the
    validation item. Users too short to keep ``min_train`` training rows stay wholly in train.
    Without timestamps the input order stands in for time."""
    position = np.arange(len(inter))
    time_key = position if inter.timestamps is None else inter.timestamps
    order = np.lexsort((position, time_key, inter.users))
    rank, count = _rank_from_end(inter.users, order)
    held = 2 if with_valid else 1
    eligible = count >= held + min_train
    test_mask = eligible & (rank == 0)
    valid_mask = eligible & (rank == 1) if with_valid else np.zeros(len(inter), dtype=bool)
    train_mask = ~(test_mask | valid_mask)
    return Split(inter.take(train_mask), inter.take(valid_mask) if with_valid else None, inter.take(test_mask))


def temporal(inter: Interactions, test_ratio: float = 0.2, valid_ratio: float = 0.1) -> Split:
    """Global time cut: the latest ``test_ratio`` of interactions test, the ``valid_ratio`` before
    it validation. Simulates deployment: the model never sees the future."""
    if inter.timestamps is None:
        raise ValueError("temporal split needs timestamps; this dataset has none (use loo or random)")
    _check_ratios(test_ratio, valid_ratio)
    order = np.argsort(inter.timestamps, kind="stable")
    n = len(inter)
    n_test = int(round(n * test_ratio))
    n_valid = int(round(n * valid_ratio))
    phase = np.zeros(n, dtype=np.int8)
    phase[order[n - n_test :]] = 2
    phase[order[n - n_test - n_valid : n - n_test]] = 1
    return Split(inter.take(phase == 0), inter.take(phase == 1) if valid_ratio > 0 else None, inter.take(phase == 2))


def random_ratio(inter: Interactions, test_ratio: float = 0.2, valid_ratio: float = 0.1, seed: int = 0) -> Split:
    """Per-user random split: each user's interactions are shuffled and cut by the ratios.

    A user's share is ``count * ratio`` rounded up or down at random in proportion to its fraction
    (stochastic rounding), so the parts hold the requested shares overall even when most users
    have few interactions (plain flooring would leave every user under 10 rows out of a 10% test
    set); every user keeps at least one training row.
    """
    _check_ratios(test_ratio, valid_ratio)
    rng = np.random.default_rng(seed)
    shuffle_key = rng.random(len(inter))
    order = np.lexsort((shuffle_key, inter.users))
    rank, count = _rank_from_end(inter.users, order)
    n_users = int(inter.users.max()) + 1 if len(inter) else 0
    per_user = np.bincount(inter.users, minlength=n_users)
    # The epsilon keeps float error from flooring e.g. 180 * 0.35 = 62.99999 down to 62.
    test_n = np.floor(per_user * test_ratio + rng.random(n_users) * (1 - 1e-9) + 1e-9).astype(np.int64)
    valid_n = np.floor(per_user * valid_ratio + rng.random(n_users) * (1 - 1e-9) + 1e-9).astype(np.int64)
    test_n = np.minimum(test_n, np.maximum(per_user - 1, 0))
    valid_n = np.minimum(valid_n, np.maximum(per_user - 1 - test_n, 0))
    n_test, n_valid = test_n[inter.users], valid_n[inter.users]
    test_mask = rank < n_test
    valid_mask = (rank >= n_test) & (rank < n_test + n_valid)
    train_mask = ~(test_mask | valid_mask)
    return Split(inter.take(train_mask), inter.take(valid_mask) if valid_ratio > 0 else None, inter.take(test_mask))


def holdout_one_per_user(train: Interactions, seed: int = 0, min_left: int = 2) -> tuple[Interactions, Interactions]:
    """Carve a validation set out of given training data: one random interaction per user that has
    more than ``min_left``. Used when the files carry only train/test, so early stopping never looks
    at the test set."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(train)), train.users))
    rank, count = _rank_from_end(train.users, order)
    valid_mask = (rank == 0) & (count > min_left)
    return train.take(~valid_mask), train.take(valid_mask)


def _check_ratios(test_ratio: float, valid_ratio: float) -> None:
    if not (0 < test_ratio < 1 and 0 <= valid_ratio < 1 and test_ratio + valid_ratio < 1):
        raise ValueError(f"bad split ratios: test={test_ratio}, valid={valid_ratio}; need 0<test, 0<=valid, sum<1")
