"""LightGCN fold-in: a user vector from the user's items, without retraining.

LightGCN aggregates a user's neighbours with the symmetric weight 1 / sqrt(|N(u)| |N(i)|). For a
user the model never saw, the vector is that aggregation over the items' final embeddings; for a
known user with fresh interactions, the trained vector is rescaled to the user's new degree and the
new items' terms are added, which is what one more propagation step would give to the new edges.
Inner-product ranking only depends on the direction, so the scale of folded vectors is harmless.
"""

from __future__ import annotations

import numpy as np


def fold_in(item_vectors: np.ndarray, item_degree: np.ndarray, items: np.ndarray,
            trained: np.ndarray | None = None, trained_degree: int = 0) -> np.ndarray:
    """The user vector after adding ``items`` (indices) to a user with ``trained_degree`` training
    items and trained vector ``trained`` (None for a new user)."""
    items = np.unique(np.asarray(items, dtype=np.int64))
    degree = trained_degree + len(items)
    if degree == 0:
        raise ValueError("fold-in needs at least one item for a user without a trained vector")
    weights = 1.0 / np.sqrt(degree * np.maximum(item_degree[items], 1.0))
    folded = (weights[:, None] * item_vectors[items]).sum(axis=0)
    if trained is None:
        return folded.astype(np.float32)
    return (trained * np.sqrt(trained_degree / degree) + folded).astype(np.float32)
