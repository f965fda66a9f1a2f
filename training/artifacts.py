"""Model artifacts: a directory with ``manifest.json`` (model type, version, hyperparameters,
dataset fingerprint, id maps, metrics), the weights, and for LightGCN the final propagated
embeddings; plus :func:`load_model` whose ``predict``/``score`` speak the caller's original ids.

Layout::

    manifest.json      what this is; names every other file
    model.pt           state_dict of the trained module
    embeddings.npz     LightGCN only: user (n_users, d) and item (n_items, d) final embeddings
    user_ids.json      index -> original user id
    item_ids.json      index -> original item id
    seen.npz           training items per user (CSR) and item popularity, for exclusion/cold start
    items.jsonl        product metadata (title, categories, brand, price) when the data had it
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.data.dataset import Dataset
from training.models.base import Recommender
from training.models.frozen import FrozenEmbeddings
from training.models.lightgcn import LightGCN
from training.models.registry import build_model

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class UnknownIdError(KeyError):
    """A user or item id the model was not trained on."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


def save_artifact(out_dir: Path, model: Recommender, dataset: Dataset, training: dict[str, object],
                  metrics: dict[str, float], version: str | None = None) -> Path:
    """Write the artifact directory and return the manifest's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.cpu()
    torch.save(model.state_dict(), out_dir / "model.pt")
    files = {"weights": "model.pt", "user_ids": "user_ids.json", "item_ids": "item_ids.json", "seen": "seen.npz"}
    if isinstance(model, LightGCN):
        user_emb, item_emb = model.final_embeddings()
        np.savez(out_dir / "embeddings.npz", user=user_emb, item=item_emb)
        files["embeddings"] = "embeddings.npz"
    (out_dir / "user_ids.json").write_text(json.dumps(dataset.user_ids.tolist()))
    (out_dir / "item_ids.json").write_text(json.dumps(dataset.item_ids.tolist()))
    seen_parts = [p for p in (dataset.train, dataset.valid) if p is not None]
    users = np.concatenate([p.users for p in seen_parts])
    items = np.concatenate([p.items for p in seen_parts])
    order = np.lexsort((items, users))
    indptr = np.r_[0, np.cumsum(np.bincount(users, minlength=dataset.n_users))]
    popularity = np.bincount(dataset.train.items, minlength=dataset.n_items)
    np.savez(out_dir / "seen.npz", indptr=indptr, indices=items[order], popularity=popularity)
    if dataset.catalog is not None and len(dataset.catalog):
        with (out_dir / "items.jsonl").open("w") as handle:
            for item_id in dataset.item_ids.tolist():
                handle.write(json.dumps(dataset.catalog.describe(item_id)) + "\n")
        files["items"] = "items.jsonl"
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_type": model.name,
        "version": version or time.strftime("%Y%m%d-%H%M%S") + "-" + dataset.fingerprint[:8],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_users": dataset.n_users,
        "n_items": dataset.n_items,
        "hyperparameters": model.hyperparameters(),
        "training": training,
        "dataset": dataset.summary(),
        "id_maps": {"users": files["user_ids"], "items": files["item_ids"]},
        "files": files,
        "metrics": metrics,
    }
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, default=_jsonable))
    return path


def _jsonable(value: object) -> object:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    return str(value)


@dataclass
class LoadedModel:
    """A trained model with its id maps, answering in original ids."""

    path: Path
    manifest: dict
    model: Recommender
    user_ids: list[str]
    item_ids: list[str]
    seen_indptr: np.ndarray
    seen_indices: np.ndarray
    popularity: np.ndarray

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.user_ids)}
        self.item_index = {v: i for i, v in enumerate(self.item_ids)}

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def _user(self, user_id: str) -> int:
        try:
            return self.user_index[str(user_id)]
        except KeyError:
            raise UnknownIdError(f"unknown user '{user_id}': not in this model's training data") from None

    def seen_items(self, user_id: str) -> np.ndarray:
        u = self._user(user_id)
        return self.seen_indices[self.seen_indptr[u] : self.seen_indptr[u + 1]]

    @torch.no_grad()
    def predict(self, user_id: str, n: int = 10, exclude_seen: bool = True) -> list[tuple[str, float]]:
        """Top-``n`` items for a known user, best first, excluding items the user already has."""
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        u = self._user(user_id)
        scores = self.model.score_all(torch.tensor([u])).squeeze(0).float()
        if exclude_seen:
            scores[torch.from_numpy(self.seen_items(user_id))] = -torch.inf
        available = int(torch.isfinite(scores).sum())
        top = torch.topk(scores, min(n, available))
        return [(self.item_ids[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]

    @torch.no_grad()
    def score(self, user_id: str, item_ids: list[str]) -> list[tuple[str, float]]:
        """Scores for the given items, in the order given."""
        u = self._user(user_id)
        missing = [i for i in item_ids if str(i) not in self.item_index]
        if missing:
            raise UnknownIdError(f"unknown item(s) {missing[:5]}{'...' if len(missing) > 5 else ''}")
        items = torch.tensor([self.item_index[str(i)] for i in item_ids], dtype=torch.long)
        scores = self.model.score_pairs(torch.full_like(items, u), items).float()
        return list(zip([str(i) for i in item_ids], scores.tolist()))

    def catalog(self) -> dict[str, dict]:
        """Product metadata by item id, when the artifact carries it."""
        path = self.path / "items.jsonl"
        if not path.exists():
            return {}
        rows = (json.loads(line) for line in path.read_text().splitlines() if line)
        return {row["item_id"]: row for row in rows}


def load_model(path: str | Path, device: str = "cpu") -> LoadedModel:
    """Load an artifact directory written by :func:`save_artifact`."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        raise FileNotFoundError(f"{path} is not a model artifact: {MANIFEST} is missing")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{manifest_path}: unsupported artifact format_version {manifest.get('format_version')}")
    files = manifest["files"]
    if "embeddings" in files:
        embeddings = np.load(path / files["embeddings"])
        model: Recommender = FrozenEmbeddings(embeddings["user"], embeddings["item"])
    else:
        model = build_model(manifest["model_type"], manifest["n_users"], manifest["n_items"],
                            **manifest["hyperparameters"])
        model.load_state_dict(torch.load(path / files["weights"], map_location="cpu", weights_only=True))
    model.to(device).eval()
    seen = np.load(path / files["seen"])
    return LoadedModel(
        path=path,
        manifest=manifest,
        model=model,
        user_ids=json.loads((path / files["user_ids"]).read_text()),
        item_ids=json.loads((path / files["item_ids"]).read_text()),
        seen_indptr=seen["indptr"],
        seen_indices=seen["indices"],
        popularity=seen["popularity"],
    )
