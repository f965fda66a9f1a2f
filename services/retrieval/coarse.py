"""Exact top-k at a half or a quarter of the memory traffic: a bfloat16 or int8 first pass, then an
exact re-rank of the few items that can still be in the top k.

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

The int8 kind reads a quarter of float32's bytes: ``x~ = s x^`` with one scale ``s`` for the
catalogue (its largest component / 127) and ``q~ = t q^`` with one per query, so the approximate
score ``s t <x^, q^>`` is an exact integer dot product (VNNI instructions where the CPU has them)
scaled once. The same bound holds with these ``~`` values; the integer sum is exact and converts to
float32 exactly (below 2^24 for up to 1,040 dimensions), so only the two float32 products round
(2^-20 of ``|x~| |q~|`` covers them). Which kind an index uses is measured on its CPU (``fastest_kind``).
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
PRODUCT_ROUNDING = {"bfloat16": 2.0 ** -6, "int8": 2.0 ** -20}
KINDS = ("int8", "bfloat16")
INT8_LEVELS = 127
# the approximate scores are cut into chunks of this many items; the k-th largest of the chunks'
# maxima is a cheap stand-in for the k-th largest score (k distinct items reach it, which is all the
# bound's argument needs) and it picks the few chunks worth looking into
CHUNK = 64


class CoarseScan:
    """The bfloat16 or int8 copy of an index's item vectors (padded to whole chunks) and the
    constants of its error bound."""

    def __init__(self, vectors: torch.Tensor, kind: str = "bfloat16") -> None:
        if kind not in KINDS:
            raise ValueError(f"coarse scan kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.items = len(vectors)
        self.chunks = -(-self.items // CHUNK)
        # int8 only (an all-zero catalogue: 1); bfloat16 needs no pass over the vectors for it
        self.scale = (float(vectors.abs().max()) / INT8_LEVELS or 1.0) if kind == "int8" else 1.0
        padded = torch.zeros(self.chunks * CHUNK, vectors.shape[1],
                             dtype=torch.int8 if kind == "int8" else torch.bfloat16)
        padded[:self.items] = self._rounded_items(vectors)
        self.vectors = padded
        rounded = self._as_float(padded[:self.items])
        self.max_error_norm = float(torch.linalg.vector_norm(vectors - rounded, dim=1).max())
        self.max_norm = float(torch.linalg.vector_norm(rounded, dim=1).max())

    def _rounded_items(self, vectors: torch.Tensor) -> torch.Tensor:
        if self.kind == "int8":
            return torch.round(vectors / self.scale).clamp_(-INT8_LEVELS, INT8_LEVELS).to(torch.int8)
        return vectors.to(torch.bfloat16)

    def _as_float(self, items: torch.Tensor) -> torch.Tensor:
        return items.to(torch.float32) * self.scale if self.kind == "int8" else items.to(torch.float32)

    def _rounded_queries(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The queries as the scan multiplies them, and their values as float32 (``q~``)."""
        if self.kind == "bfloat16":
            rounded = queries.to(torch.bfloat16)
            return rounded, rounded.to(torch.float32)
        scales = self._query_scales(queries)
        quantized = torch.round(queries / scales).clamp_(-INT8_LEVELS, INT8_LEVELS).to(torch.int8)
        return quantized, quantized.to(torch.float32) * scales

    @staticmethod
    def _query_scales(queries: torch.Tensor) -> torch.Tensor:
        largest = queries.abs().amax(dim=1, keepdim=True)
        return torch.where(largest > 0, largest / INT8_LEVELS, torch.ones_like(largest))

    def first_pass(self, queries: torch.Tensor,
                   rounded: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, chunks * CHUNK) raw approximate scores (bfloat16, or int32 products of the int8
        values; the padding's are 0) and the (B, 1) scales that make them scores (``scores``).
        ``rounded``: the queries as the scan multiplies them, when the caller has them already."""
        if rounded is None:
            rounded, _ = self._rounded_queries(queries)
        if self.kind == "bfloat16":
            return rounded @ self.vectors.T, torch.ones(len(queries), 1)
        # torch's int8 matrix product (oneDNN; VNNI where the CPU has it) reads the items as the
        # (d, items) view. The int32 products stay as they are: converting all of them would cost a
        # pass as long as the product itself, so only the few that are looked at are converted.
        return torch._int_mm(rounded, self.vectors.T), self._query_scales(queries) * self.scale

    def excluded(self, raw: torch.Tensor) -> float | int:
        """The raw value that marks an item a row must not get (below any reachable product)."""
        return torch.iinfo(raw.dtype).min if self.kind == "int8" else -torch.inf

    def scores(self, raw: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
        """Raw values (any shape with rows matching ``scales``) as float32 scores, -inf where excluded."""
        if self.kind == "bfloat16":
            return raw.to(torch.float32)
        scored = raw.to(torch.float32).mul_(scales.reshape(-1, *[1] * (raw.dim() - 1)))
        return scored.masked_fill_(raw == self.excluded(raw), -torch.inf)

    def approximate(self, queries: torch.Tensor) -> torch.Tensor:
        """(B, chunks * CHUNK) approximate scores as float32."""
        raw, scales = self.first_pass(queries)
        return self.scores(raw, scales)

    def bound(self, queries: torch.Tensor, rounded: torch.Tensor | None = None) -> torch.Tensor:
        """Per query row, the most an approximate score can differ from the exact one (``rounded``:
        the queries' ``q~`` when the caller has them already)."""
        if rounded is None:
            _, rounded = self._rounded_queries(queries)
        norm = torch.linalg.vector_norm(queries, dim=1)
        error = torch.linalg.vector_norm(queries - rounded, dim=1)
        rounded_norm = torch.linalg.vector_norm(rounded, dim=1)
        return (self.max_error_norm * norm + self.max_norm * error
                + PRODUCT_ROUNDING[self.kind] * self.max_norm * rounded_norm)

    def candidates(self, queries: torch.Tensor, k: int,
                   mask: Callable[[torch.Tensor, float | int], None]) -> list[torch.Tensor]:
        """Per query row, the indices of the items that can be in its exact top ``k``. ``mask(raw,
        value)`` sets ``value`` in a (B, items) matrix where a row must not get an item."""
        multiplied, rounded = self._rounded_queries(queries)  # once, for the pass and its bound
        raw, scales = self.first_pass(queries, multiplied)  # (B, chunks * CHUNK)
        excluded = self.excluded(raw)
        raw[:, self.items:] = excluded  # the padding
        mask(raw[:, :self.items], excluded)
        bounds = self.bound(queries, rounded)
        by_chunk = raw.view(len(queries), self.chunks, CHUNK)
        maxima = self.scores(by_chunk.amax(dim=2), scales)  # (B, chunks)
        found = []
        for row in range(len(queries)):
            if k <= self.chunks:
                kth = torch.topk(maxima[row], k).values[-1]
            else:  # a small catalogue: fewer chunks than k
                row_scores = self.scores(raw[row], scales[row])
                kth = torch.topk(row_scores, min(k, len(row_scores))).values[-1]
            # -inf: fewer than k items are allowed, and all of those are candidates
            threshold = -torch.inf if torch.isinf(kth) else kth - 2 * bounds[row]
            chunks = torch.nonzero(maxima[row] >= threshold).squeeze(1)
            inside = self.scores(by_chunk[row, chunks], scales[row].expand(len(chunks)))
            keep = (inside >= threshold) & torch.isfinite(inside)
            positions = torch.nonzero(keep)
            found.append(chunks[positions[:, 0]] * CHUNK + positions[:, 1])
        return found


def measured_scan(vectors: torch.Tensor, repeats: int = 3) -> CoarseScan | None:
    """The coarse scan whose first pass is fastest for one query over this matrix on this machine's
    CPU, or None where none beats the float32 scan by enough to pay for the second pass (small
    catalogues; CPUs without bfloat16 or int8 dot-product instructions convert, which can be slower)."""
    if len(vectors) < MIN_ITEMS:
        return None
    query = torch.randn(1, vectors.shape[1])

    def fastest(run: Callable[[], object]) -> float:
        run()
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        return best

    exact_s = fastest(lambda: query @ vectors.T)
    timed: dict[str, tuple[float, CoarseScan]] = {}
    for kind in KINDS:
        try:
            scan = CoarseScan(vectors, kind)
            timed[kind] = (fastest(lambda scan=scan: scan.first_pass(query)), scan)
        except RuntimeError as error:  # no int8 matrix product in this torch build or on this CPU
            log.info("retrieval: no %s scan here (%s)", kind, error)
    log.info("retrieval scan over %d items: float32 %.2f ms, %s", len(vectors), exact_s * 1000,
             ", ".join(f"{kind} {seconds * 1000:.2f} ms" for kind, (seconds, _) in timed.items()))
    if not timed:
        return None
    seconds, scan = min(timed.values(), key=lambda pair: pair[0])
    return scan if seconds < 0.8 * exact_s else None  # the second pass and the thresholds cost the rest
