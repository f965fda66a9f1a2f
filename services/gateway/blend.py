"""Blending retrieval and NCF scores: reciprocal-rank fusion.

The two models' scores live on different scales (LightGCN inner products, NeuMF logits), so they
are combined by rank: score = w / (K + rank_retrieval) + (1 - w) / (K + rank_ncf), with the usual
K = 60. Items the scorer could not score (NaN) keep only their retrieval term.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

RRF_K = 60.0


@lru_cache(maxsize=32)
def _rank_terms(n: int, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Each rank's term of the two lists (retrieval's, NCF's), computed once per size and weight."""
    ranks = RRF_K + np.arange(n, dtype=np.float64)
    return weight / ranks, (1 - weight) / ranks


def reciprocal_rank_fusion(item_ids: Sequence[str], ncf_scores: Sequence[float] | np.ndarray, weight: float,
                           k: int) -> list[tuple[str, float]]:
    """``item_ids`` in retrieval order, ``ncf_scores`` aligned with them; the top ``k`` fused."""
    if len(item_ids) != len(ncf_scores):
        raise ValueError(f"{len(item_ids)} candidates but {len(ncf_scores)} scores")
    scores = np.asarray(ncf_scores)
    retrieval_terms, ncf_terms = _rank_terms(len(scores), weight)
    fused = retrieval_terms.copy()
    unscored = np.isnan(scores)
    if unscored.any():  # items the scorer does not know keep their retrieval term alone
        scored = np.flatnonzero(~unscored)
        fused[scored[np.argsort(-scores[scored], kind="stable")]] += ncf_terms[: len(scored)]
    else:
        fused[np.argsort(-scores, kind="stable")] += ncf_terms
    top = np.argsort(-fused, kind="stable")[:k]
    return [(item_ids[i], float(fused[i])) for i in top.tolist()]
