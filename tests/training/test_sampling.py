"""Vectorised negative sampling: membership tests and rejection of positives."""

from __future__ import annotations

import numpy as np
import torch

from training.sampling import InteractionIndex, sample_negatives


def test_interaction_index_contains() -> None:
    users = np.array([0, 0, 1, 2, 2, 0])  # (0, 3) is repeated
    items = np.array([3, 1, 0, 4, 2, 3])
    index = InteractionIndex(users, items, n_items=5)
    positives = set(zip(users.tolist(), items.tolist()))
    all_u, all_i = torch.meshgrid(torch.arange(4), torch.arange(5), indexing="ij")
    got = index.contains(all_u.reshape(-1), all_i.reshape(-1))
    expected = [(u, i) in positives for u, i in zip(all_u.reshape(-1).tolist(), all_i.reshape(-1).tolist())]
    assert got.tolist() == expected
    assert int(got.sum()) == 5  # 5 distinct pairs; user 3 owns nothing
    # the largest key (user 2, item 4) and a query beyond every key (user 3, item 4) are both handled
    assert index.contains(torch.tensor([2, 3]), torch.tensor([4, 4])).tolist() == [True, False]


def _dense_user() -> tuple[InteractionIndex, set[int]]:
    # user 0 owns 45 of 50 items (90%); user 1 owns 2
    rng = np.random.default_rng(0)
    owned = rng.choice(50, size=45, replace=False)
    users = np.r_[np.zeros(45, dtype=np.int64), np.ones(2, dtype=np.int64)]
    items = np.r_[owned, [0, 1]].astype(np.int64)
    return InteractionIndex(users, items, n_items=50), set(owned.tolist())


def test_sample_negatives_never_returns_a_positive_for_a_dense_user() -> None:
    index, owned = _dense_user()
    users = torch.tensor([0] * 50 + [1] * 10)
    generator = torch.Generator().manual_seed(0)
    negs = sample_negatives(index, users, n_neg=8, generator=generator, max_rounds=500)
    assert negs.shape == (60, 8)
    assert negs.dtype == torch.int64
    assert int(negs.min()) >= 0 and int(negs.max()) < 50
    dense = set(negs[:50].reshape(-1).tolist())
    assert not dense & owned
    assert dense <= set(range(50)) - owned  # only the 5 free items
    assert not set(negs[50:].reshape(-1).tolist()) & {0, 1}
    assert not index.contains(users[:, None].expand_as(negs), negs).any()


def test_sample_negatives_unique_per_row() -> None:
    index, owned = _dense_user()
    free = set(range(50)) - owned
    generator = torch.Generator().manual_seed(1)
    # 5 distinct negatives out of exactly 5 free items: every row must be a permutation of them
    negs = sample_negatives(index, torch.zeros(10, dtype=torch.long), n_neg=5, generator=generator,
                            max_rounds=2000, unique_per_row=True)
    for row in negs.tolist():
        assert set(row) == free and len(row) == 5
    # a sparse user (48 free items) over a bigger draw: no repeats within any row
    negs = sample_negatives(index, torch.ones(20, dtype=torch.long), n_neg=40,
                            generator=torch.Generator().manual_seed(2), max_rounds=300, unique_per_row=True)
    assert all(len(set(row)) == 40 for row in negs.tolist())
    assert not set(negs.reshape(-1).tolist()) & {0, 1}


def test_sample_negatives_without_unique_per_row_may_repeat() -> None:
    # The flag matters: with 5 free items and 8 draws per row repeats are unavoidable.
    index, _ = _dense_user()
    negs = sample_negatives(index, torch.zeros(4, dtype=torch.long), n_neg=8,
                            generator=torch.Generator().manual_seed(0), max_rounds=500)
    assert all(len(set(row)) <= 5 for row in negs.tolist())


def test_sample_negatives_deterministic_for_same_seed() -> None:
    index, _ = _dense_user()
    users = torch.tensor([0, 1, 1, 0, 1] * 20)
    a = sample_negatives(index, users, 6, torch.Generator().manual_seed(42), max_rounds=200)
    b = sample_negatives(index, users, 6, torch.Generator().manual_seed(42), max_rounds=200)
    c = sample_negatives(index, users, 6, torch.Generator().manual_seed(43), max_rounds=200)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
