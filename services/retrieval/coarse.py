"""Exact top-k at half the memory traffic: a bfloat16 first pass, then an exact re-rank of the few
items that can still be in the top k.

An exact search reads every item vector for every query, so on a large catalogue it is bound by
memory bandwidth, not arithmetic. A bfloat16 copy of the vectors halves the bytes read (and CPUs
with AVX512-BF16 or AMX multiply it natively). Its scores are off by a bounded amount, so the
answer stays exact: with every approximate score within ``B`` of the exact one, an item of the
exact top k scores at least ``L - 2B`` approximately, where ``L`` is the k-th largest approximate
score (the k items at or above ``L`` all score at least ``L - B`` exactly, so the exact k-th score
is at least ``L - B``; an item at or above it is at least ``L - 2B`` approximately). Those
candidates, a few hundred of a million for a typical query, are scored again in float32.

``B`` for a query ``q`` (``~`` marks a value rounded to bfloat16, whose relative rounding error is at
most 2^-8), from Cauchy-Schwarz on ``<x, q> - <x~, q~> = <x - x~, q> + <x~, q - q~>`` plus the
rounding of the product itself (float32 sums, then one bfloat16 rounding of the result):
``B = max|x - x~| |q| + max|x~| |q - q~| + 2^-6 max|x~| |q~|``, norms over the catalogue's
items. The last term's 2^-6 covers the result's rounding (2^-8 of at most ``|x~| |q~|``) with a
wide margin for the float32 sums of 64-256 terms.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch

log = logging.getLogger(__name__)

# below this many items the scan is short and the per-query second pass costs as much as it saves
# (100k items, batches of 64: slower than float32)
MIN_ITEMS = 250_000
PRODUCT_ROUNDING = 2.0 ** -6
# the approximate scores are cut into chunks of this many items; the k-th largest of the chunks'
# maxima is a cheap stand-in for the k-th largest score (k distinct items reach it, which is all the
# bound's argument needs) and it picks the few chunks worth looking into
CHUNK = 64


class CoarseScan:
    """The bfloat16 copy of an index's item vectors (padded to whole chunks) and the constants of
    its error bound."""

    def __init__(self, vectors: torch.Tensor) -> None:
        self.items = len(vectors)
        self.chunks = -(-self.items // CHUNK)
        padded = torch.zeros(self.chunks * CHUNK, vectors.shape[1], dtype=torch.bfloat16)
        padded[:self.items] = vectors.to(torch.bfloat16)
        self.vectors = padded
        rounded = padded[:self.items].to(torch.float32)
        self.max_error_norm = float(torch.linalg.vector_norm(vectors - rounded, dim=1).max())
        self.max_norm = float(torch.linalg.vector_norm(rounded, dim=1).max())

    def bound(self, queries: torch.Tensor) -> torch.Tensor:
        """Per query row, the most an approximate score can differ from the exact one."""
        rounded = queries.to(torch.bfloat16)
        norm = torch.linalg.vector_norm(queries, dim=1)
        error = torch.linalg.vector_norm(queries - rounded.to(torch.float32), dim=1)
        rounded_norm = torch.linalg.vector_norm(rounded.to(torch.float32), dim=1)
        return (self.max_error_norm * norm + self.max_norm * error
                + PRODUCT_ROUNDING * self.max_norm * rounded_norm)

    def candidates(self, queries: torch.Tensor, k: int,
                   mask: Callable[[torch.Tensor], None]) -> list[torch.Tensor]:
        """Per query row, the indices of the items that can be in its exact top ``k``. ``mask``
        sets -inf in a (B, items) score matrix where a row must not get an item."""
        scores = queries.to(torch.bfloat16) @ self.vectors.T  # (B, chunks * CHUNK)
        scores[:, self.items:] = -torch.inf  # the padding
        mask(scores[:, :self.items])
        bounds = self.bound(queries)
        by_chunk = scores.view(len(queries), self.chunks, CHUNK)
        maxima = by_chunk.amax(dim=2).to(torch.float32)  # (B, chunks)
        found = []
        for row in range(len(queries)):
            if k <= self.chunks:
                kth = torch.topk(maxima[row], k).values[-1]
            else:  # a small catalogue: fewer chunks than k
                kth = torch.topk(scores[row], min(k, scores.shape[1])).values[-1].to(torch.float32)
            # -inf: fewer than k items are allowed, and all of those are candidates
            threshold = -torch.inf if torch.isinf(kth) else kth - 2 * bounds[row]
            chunks = torch.nonzero(maxima[row] >= threshold).squeeze(1)
            inside = by_chunk[row, chunks].to(torch.float32)
            keep = (inside >= threshold) & torch.isfinite(inside)
            positions = torch.nonzero(keep)
            found.append(chunks[positions[:, 0]] * CHUNK + positions[:, 1])
        return found


def pays_off(vectors: torch.Tensor, repeats: int = 3) -> bool:
    """Whether the bfloat16 scan is faster than float32 on this machine's CPU for this matrix (CPUs
    without native bfloat16 arithmetic convert it, which can be slower than float32)."""
    if len(vectors) < MIN_ITEMS:
        return False
    query = torch.randn(1, vectors.shape[1])
    coarse = vectors.to(torch.bfloat16)

    def fastest(run) -> float:
        run()
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        return best

    exact_s = fastest(lambda: query @ vectors.T)
    coarse_s = fastest(lambda: query.to(torch.bfloat16) @ coarse.T)
    log.info("retrieval scan over %d items: float32 %.2f ms, bfloat16 %.2f ms", len(vectors), exact_s * 1000,
             coarse_s * 1000)
    return coarse_s < 0.8 * exact_s  # the second pass and the thresholds cost the rest
