"""The most recent item per user, and its blend into the user's query vector."""

from __future__ import annotations

import numpy as np
import pytest

from core.recent_item import NO_ITEM, blend_recent_item, last_items


def test_last_items_follow_row_order_without_timestamps():
    users = np.array([0, 1, 0, 2, 0, 1])
    items = np.array([5, 7, 3, 9, 4, 1])
    assert last_items(users, items, n_users=4).tolist() == [4, 1, 9, NO_ITEM]


def test_last_items_follow_timestamps_and_break_ties_by_row():
    users = np.array([0, 0, 0, 1, 1])
    items = np.array([5, 3, 8, 2, 6])
    times = np.array([30, 10, 30, 5, 1])  # user 0: rows 0 and 2 tie at 30, the later row wins
    assert last_items(users, items, 2, times).tolist() == [8, 2]
    assert last_items(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 3).tolist() == [NO_ITEM] * 3


def test_blend_adds_the_item_rescaled_to_the_users_length():
    users = np.array([[3.0, 4.0], [1.0, 0.0]], dtype=np.float32)
    items = np.array([[0.0, 2.0], [10.0, 0.0]], dtype=np.float32)
    blended = blend_recent_item(users, items, np.array([0, NO_ITEM]), weight=0.5)
    # user 0: |u| = 5, item (0, 2) has length 2 -> u + 0.5 * 5 / 2 * (0, 2) = (3, 4 + 2.5)
    assert np.allclose(blended, [[3.0, 6.5], [1.0, 0.0]])
    assert np.array_equal(blend_recent_item(users, items, np.array([0, 1]), weight=0.0), users)
    assert np.array_equal(users, [[3.0, 4.0], [1.0, 0.0]])  # the input is not modified


def test_one_vector_blends_to_the_same_bits_as_its_row_in_a_matrix():
    """The embedding service blends one user at a time and retrieval's precomputed rows were ranked
    by the whole matrix's blend: both must be the same float32 vector to the bit."""
    rng = np.random.default_rng(3)
    users = rng.standard_normal((500, 64), dtype=np.float32)
    items = rng.standard_normal((200, 64), dtype=np.float32)
    recent = rng.integers(0, 200, 500)
    matrix = blend_recent_item(users, items, recent, 0.37)
    for user in (0, 17, 499):
        single = blend_recent_item(users[user], items, np.int64(recent[user]), 0.37)
        assert single.shape == (64,) and np.array_equal(single, matrix[user])


def test_bad_arguments_are_refused_with_a_message():
    users, items = np.ones((2, 3), dtype=np.float32), np.ones((4, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="must be >= 0"):
        blend_recent_item(users, items, np.array([0, 1]), -0.1)
    with pytest.raises(ValueError, match="one recent item per user"):
        blend_recent_item(users, items, np.array([0]), 0.5)
