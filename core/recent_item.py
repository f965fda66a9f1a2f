"""The user's most recent item as part of the query: what the user touched last says most about
what comes next.

A user vector summarises everything the user did; where the next interactions continue the last
ones (check-ins near the last place, the accessory for the camera just bought), the last item's own
vector points closer to them. :func:`blend_recent_item` adds it to the user vector, rescaled to the
user vector's length so that ``weight`` means the same for every user and model:
``q = u + weight * |u| / |i| * i``. Ranking by ``q . j`` then mixes "items like this user" with
"items like the one just touched". Weight 0 is the plain model.
"""

from __future__ import annotations

import numpy as np

NO_ITEM = -1


def last_items(users: np.ndarray, items: np.ndarray, n_users: int,
               timestamps: np.ndarray | None = None) -> np.ndarray:
    """Each user's most recent item index (``NO_ITEM`` for a user without any): the latest by
    timestamp where there are timestamps (ties: the later row), else the last row of the user.
    Rows are taken in the order given, which for files without times is the file's order."""
    recent = np.full(n_users, NO_ITEM, dtype=np.int64)
    if len(users) == 0:
        return recent
    position = np.arange(len(users))
    order = position if timestamps is None else np.lexsort((position, timestamps))
    # assigning in time order leaves each user's latest row in place (numpy keeps the last write)
    recent[users[order]] = items[order]
    return recent


def blend_recent_item(user_vectors: np.ndarray, item_vectors: np.ndarray, recent: np.ndarray,
                      weight: float) -> np.ndarray:
    """``user_vectors`` with each user's recent item blended in (rows of ``recent`` that are
    ``NO_ITEM`` stay as they are). ``user_vectors`` may be a single vector with ``recent`` a scalar."""
    if weight < 0:
        raise ValueError(f"the recent-item weight must be >= 0, got {weight}")
    single = user_vectors.ndim == 1
    users = np.atleast_2d(user_vectors).astype(np.float32, copy=True)
    recent = np.atleast_1d(np.asarray(recent, dtype=np.int64))
    if len(recent) != len(users):
        raise ValueError(f"one recent item per user vector: {len(recent)} for {len(users)}")
    rows = np.flatnonzero(recent != NO_ITEM)
    if weight == 0 or not len(rows):
        return users[0] if single else users
    item = item_vectors[recent[rows]].astype(np.float32)
    user_norm = np.linalg.norm(users[rows], axis=1, keepdims=True)
    item_norm = np.maximum(np.linalg.norm(item, axis=1, keepdims=True), np.float32(1e-12))
    users[rows] += np.float32(weight) * (user_norm / item_norm) * item
    return users[0] if single else users
