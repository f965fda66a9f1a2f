"""Blending retrieval and NCF scores: reciprocal-rank fusion.

The two models' scores live on different scales (LightGCN inner products, NeuMF logits), so they
are combined by rank: score = w / (K + rank_retrieval) + (1 - w) / (K + rank_ncf), with the usual
K = 60. Items the scorer could not score (NaN) keep only their retrieval term.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RRF_K = 60.0


def reciprocal_rank_fusion(item_ids: Sequence[str], ncf_scores: Sequence[float], weight: float,
                           k: int) -> list[tuple[str, float]]:
    """``item_ids`` in retrieval order, ``ncf_scores`` aligned with them; the top ``k`` fused."""
    if len(item_ids) != len(ncf_scores):
        raise ValueError(f"{len(item_ids)} candidates but {len(ncf_scores)} scores")
    scores = np.asarray(ncf_scores, dtype=np.float64)
    fused = weight / (RRF_K + np.arange(len(scores), dtype=np.float64))
    scored = np.flatnonzero(~np.isnan(scores))
    ncf_rank = np.empty(len(scored), dtype=np.float64)
    ncf_rank[np.argsort(-scores[scored], kind="stable")] = np.arange(len(scored))
    fused[scored] += (1 - weight) / (RRF_K + ncf_rank)
    top = np.argsort(-fused, kind="stable")[:k]
    return [(item_ids[i], float(fused[i])) for i in top.tolist()]
