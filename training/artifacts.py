"""Writing a trained model and its dataset's id maps as an artifact (format: core/artifact.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from core.artifact import SeenItems, write_artifact
from core.recent_item import blend_recent_item
from models.base import Recommender
from models.lightgcn import LightGCN
from training.candidates import DEFAULT_COUNT, MAX_BYTES, candidates_size, precompute_candidates
from training.data.dataset import Dataset


def save_artifact(out_dir: Path, model: Recommender, dataset: Dataset, training: dict[str, object],
                  metrics: dict[str, float], version: str | None = None, candidates: int = DEFAULT_COUNT,
                  echo: Callable[[str], None] | None = None) -> Path:
    """Write the artifact directory and return the manifest's path. ``candidates``: for LightGCN,
    how many top items per user to precompute for retrieval (0: none; left out above MAX_BYTES)."""
    model = model.cpu()
    seen_parts = [p for p in (dataset.train, dataset.valid) if p is not None]
    seen = SeenItems.from_pairs(np.concatenate([p.users for p in seen_parts]),
                                np.concatenate([p.items for p in seen_parts]), dataset.n_users,
                                np.bincount(dataset.train.items, minlength=dataset.n_items))
    catalogue = dataset.catalogue
    products = ([catalogue.describe(item_id) for item_id in dataset.item_ids.tolist()]
                if catalogue is not None and len(catalogue) else [])
    embeddings = model.final_embeddings() if isinstance(model, LightGCN) else None
    recent = model.recent_items if isinstance(model, LightGCN) and model.recent_item_weight else None
    top_items = None
    if embeddings is not None and candidates > 0:
        size = candidates_size(dataset.n_users, dataset.n_items, candidates)
        if size <= MAX_BYTES:
            # ranked as retrieval will rank a trained user: by its query vector (core/artifact.py)
            queries = embeddings[0] if recent is None else blend_recent_item(*embeddings, recent,
                                                                                model.recent_item_weight)
            top_items = precompute_candidates(queries, embeddings[1], seen, candidates, echo=echo)
        elif echo is not None:
            echo(f"precomputed candidates left out: {size / 2**30:.1f} GiB would exceed {MAX_BYTES / 2**30:.0f} GiB "
                 f"(choose fewer with --precompute-candidates)")
    return write_artifact(
        out_dir, model_type=model.name, user_ids=dataset.user_ids.tolist(), item_ids=dataset.item_ids.tolist(),
        seen=seen, save_weights=lambda path: torch.save(model.state_dict(), path),
        hyperparameters=model.hyperparameters(), training=training, dataset=dataset.summary(), metrics=metrics,
        version=version, embeddings=embeddings, products=products, candidates=top_items, recent_items=recent)
