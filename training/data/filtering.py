"""k-core filtering and de-duplication (vectorised)."""

from __future__ import annotations

import numpy as np

from core.interactions import InteractionLog
from training.data.types import Interactions


def k_core(log: InteractionLog, k: int, max_rounds: int = 100) -> InteractionLog:
    """Keep only users and items with at least ``k`` interactions, repeating until stable.

    Removing a sparse item can push a user below ``k`` and vice versa, hence the loop.
    """
    if k <= 1 or len(log) == 0:
        return log
    _, user_codes = np.unique(log.user_ids, return_inverse=True)
    _, item_codes = np.unique(log.item_ids, return_inverse=True)
    keep = np.ones(len(log), dtype=bool)
    for _ in range(max_rounds):
        user_counts = np.bincount(user_codes[keep], minlength=user_codes.max() + 1)
        item_counts = np.bincount(item_codes[keep], minlength=item_codes.max() + 1)
        new_keep = keep & (user_counts[user_codes] >= k) & (item_counts[item_codes] >= k)
        if new_keep.sum() == keep.sum():
            break
        keep = new_keep
    return log.take(keep)


def deduplicate(inter: Interactions, n_items: int) -> Interactions:
    """Collapse repeated (user, item) rows, keeping the latest (its rating and time).

    Ties in time keep the row that came last in the input, as a re-rating would.
    """
    if len(inter) == 0:
        return inter
    position = np.arange(len(inter))
    order = position if inter.timestamps is None else np.lexsort((position, inter.timestamps))
    keys = inter.users[order] * n_items + inter.items[order]
    _, first_in_reversed = np.unique(keys[::-1], return_index=True)
    keep = np.sort(order[::-1][first_in_reversed])
    return inter.take(keep)
