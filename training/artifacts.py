"""Writing a trained model and its dataset's id maps as an artifact (format: core/artifact.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.artifact import SeenItems, write_artifact
from models.base import Recommender
from models.lightgcn import LightGCN
from training.data.dataset import Dataset


def save_artifact(out_dir: Path, model: Recommender, dataset: Dataset, training: dict[str, object],
                  metrics: dict[str, float], version: str | None = None) -> Path:
    """Write the artifact directory and return the manifest's path."""
    model = model.cpu()
    seen_parts = [p for p in (dataset.train, dataset.valid) if p is not None]
    seen = SeenItems.from_pairs(np.concatenate([p.users for p in seen_parts]),
                                np.concatenate([p.items for p in seen_parts]), dataset.n_users,
                                np.bincount(dataset.train.items, minlength=dataset.n_items))
    catalogue = dataset.catalogue
    products = ([catalogue.describe(item_id) for item_id in dataset.item_ids.tolist()]
                if catalogue is not None and len(catalogue) else [])
    return write_artifact(
        out_dir, model_type=model.name, user_ids=dataset.user_ids.tolist(), item_ids=dataset.item_ids.tolist(),
        seen=seen, save_weights=lambda path: torch.save(model.state_dict(), path),
        hyperparameters=model.hyperparameters(), training=training, dataset=dataset.summary(), metrics=metrics,
        version=version, embeddings=model.final_embeddings() if isinstance(model, LightGCN) else None,
        products=products)
