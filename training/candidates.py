"""Each user's top unseen items by LightGCN score, computed once at training time and shipped in
the artifact (its ``candidates`` part). Retrieval answers a user whose vector is still the trained
one from these rows instead of scanning every item (services/retrieval/precomputed.py): the same
candidates, since the rows are the exact top C and retrieval only removes items from them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from core.artifact import MANIFEST, SeenItems, open_artifact, write_candidates

DEFAULT_COUNT = 256  # the gateway asks for 200 (RECSYS_CANDIDATES): room for 56 more exclusions
MAX_BYTES = 1 << 30  # above this the part is left out (10M users x 256 items would be 10 GB)


def candidate_dtype(n_items: int) -> np.dtype:
    """The narrowest index type: a catalogue under 65,536 items halves the part's size."""
    return np.dtype(np.uint16) if n_items <= np.iinfo(np.uint16).max else np.dtype(np.int32)


def candidates_size(n_users: int, n_items: int, count: int) -> int:
    return n_users * min(count, n_items) * candidate_dtype(n_items).itemsize


def precompute_candidates(users: np.ndarray, items: np.ndarray, seen: SeenItems, count: int = DEFAULT_COUNT,
                          chunk_users: int = 2048, echo: Callable[[str], None] | None = None) -> np.ndarray:
    """(n_users, min(count, n_items)): each user's items by inner product, best first, seen items
    last (they score -inf; retrieval drops them with the user's other exclusions)."""
    n_users, n_items = len(users), len(items)
    count = min(count, n_items)
    out = np.empty((n_users, count), dtype=candidate_dtype(n_items))
    item_matrix = torch.from_numpy(np.ascontiguousarray(items, dtype=np.float32))
    reported = 0
    for start in range(0, n_users, chunk_users):
        stop = min(start + chunk_users, n_users)
        with torch.no_grad():
            scores = torch.from_numpy(np.ascontiguousarray(users[start:stop], dtype=np.float32)) @ item_matrix.T
            first, last = seen.indptr[start], seen.indptr[stop]
            rows = np.repeat(np.arange(stop - start), np.diff(seen.indptr[start:stop + 1]))
            scores[torch.from_numpy(rows), torch.from_numpy(seen.indices[first:last].astype(np.int64))] = -torch.inf
            out[start:stop] = torch.topk(scores, count, dim=1).indices.numpy()
        if echo is not None and (stop * 10 // n_users > reported or stop == n_users):
            reported = stop * 10 // n_users
            echo(f"precomputed candidates: {stop:,} of {n_users:,} users")
    return out


def attach_candidates(path: Path, count: int = DEFAULT_COUNT, echo: Callable[[str], None] | None = None) -> bool:
    """Add the candidates part to an existing LightGCN artifact (one trained before the part
    existed); the manifest is replaced in one rename, so a reader sees it with or without the part.
    False when the artifact has no embeddings or already has the part."""
    artifact = open_artifact(path)
    if not artifact.has("embeddings") or artifact.has("candidates"):
        return False
    vectors = artifact.embeddings()
    rows = precompute_candidates(artifact.query_vectors(vectors), vectors[1], artifact.seen, count, echo=echo)
    name = write_candidates(path, rows, artifact.n_users)
    manifest = dict(artifact.manifest, files={**artifact.manifest["files"], "candidates": name})
    partial = path / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=2))
    os.replace(partial, path / MANIFEST)
    return True
