"""Blending retrieval and NCF scores: reciprocal-rank fusion.

The two models' scores live on different scales (LightGCN inner products, NeuMF logits), so they
are combined by rank: score = w / (K + rank_retrieval) + (1 - w) / (K + rank_ncf), with the usual
K = 60. Items the scorer could not score (NaN) keep only their retrieval term.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RRF_K = 60.0


def reciprocal_rank_fusion(item_ids: Sequence[str], ncf_scores: Sequence[float], weight: float,
                           k: int) -> list[tuple[str, float]]:
    """``item_ids`` in retrieval order, ``ncf_scores`` aligned with them; the top ``k`` fused."""
    if len(item_ids) != len(ncf_scores):
        raise ValueError(f"{len(item_ids)} candidates but {len(ncf_scores)} scores")
    scored = [(s, i) for i, s in enumerate(ncf_scores) if not math.isnan(s)]
    ncf_rank = {index: rank for rank, (_, index) in enumerate(sorted(scored, key=lambda p: -p[0]))}
    fused = []
    for rank, item in enumerate(item_ids):
        value = weight / (RRF_K + rank)
        if rank in ncf_rank:
            value += (1 - weight) / (RRF_K + ncf_rank[rank])
        fused.append((item, value))
    fused.sort(key=lambda pair: -pair[1])
    return fused[:k]
