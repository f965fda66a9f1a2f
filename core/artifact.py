"""The model artifact format: one writer and one reader for every package that touches artifacts.

An artifact is a directory::

    manifest.json      what this is (format version, model type, version, hyperparameters,
                       dataset fingerprint, metrics) and the name of every other file
    model.pt           the trained module's weights (written and read by the models layer)
    embeddings.npz     LightGCN only: final propagated user (n_users, d) and item (n_items, d) vectors,
                       and with a recent-item weight (hyperparameters) each user's most recent
                       training item (n_users,; -1 none), blended into the user's query (core/recent_item.py)
    user_ids.json      index -> original user id
    item_ids.json      index -> original item id
    seen.npz           each user's training items (CSR: indptr, indices) and item popularity
    items.jsonl        product rows (item_id, title, categories, brand, price) when the data had them
    candidates.npy     LightGCN, optional: each user's top unseen items by score, best first
                       (n_users, C), computed at training time so that retrieval can answer a user
                       whose vector is still the trained one without scanning every item

The reader parses each part on demand, so a service reads only what it serves (the gateway never
loads weights) and nothing here needs torch.
"""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ArtifactError
from core.recent_item import NO_ITEM, blend_recent_item

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SeenItems:
    """Each user's training items as CSR rows, and how often each item was interacted with."""

    indptr: np.ndarray  # (n_users + 1,)
    indices: np.ndarray  # item indices, sorted within each user's row
    popularity: np.ndarray  # (n_items,) training interaction counts

    def of(self, user: int) -> np.ndarray:
        return self.indices[self.indptr[user] : self.indptr[user + 1]]

    @classmethod
    def from_pairs(cls, users: np.ndarray, items: np.ndarray, n_users: int, popularity: np.ndarray) -> SeenItems:
        order = np.lexsort((items, users))
        indptr = np.r_[0, np.cumsum(np.bincount(users, minlength=n_users))]
        return cls(indptr, items[order], popularity)


def utc_stamp(seconds: float | None = None) -> str:
    """The manifest's time format (ISO 8601, UTC, whole seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def write_artifact(out_dir: Path, *, model_type: str, user_ids: list[str], item_ids: list[str], seen: SeenItems,
                   save_weights: Callable[[Path], None], hyperparameters: Mapping[str, Any],
                   training: Mapping[str, Any], dataset: Mapping[str, Any], metrics: Mapping[str, float],
                   version: str | None = None, embeddings: tuple[np.ndarray, np.ndarray] | None = None,
                   products: Iterable[Mapping[str, Any]] = (), candidates: np.ndarray | None = None,
                   recent_items: np.ndarray | None = None) -> Path:
    """Write an artifact directory and return its manifest's path (written last, so a reader that
    sees the manifest sees every part). ``save_weights`` writes the weights file it is given.
    ``recent_items`` (each user's most recent training item) goes with the embeddings."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"weights": "model.pt", "user_ids": "user_ids.json", "item_ids": "item_ids.json", "seen": "seen.npz"}
    save_weights(out_dir / files["weights"])
    if recent_items is not None and (embeddings is None or recent_items.shape != (len(user_ids),)):
        raise ValueError("recent items need the embeddings and one entry per user")
    if embeddings is not None:
        arrays = {"user": embeddings[0], "item": embeddings[1]}
        if recent_items is not None:
            arrays["recent"] = recent_items.astype(np.int64)
        np.savez(out_dir / "embeddings.npz", **arrays)
        files["embeddings"] = "embeddings.npz"
    if candidates is not None:
        files["candidates"] = write_candidates(out_dir, candidates, len(user_ids))
    (out_dir / files["user_ids"]).write_text(json.dumps(list(user_ids)))
    (out_dir / files["item_ids"]).write_text(json.dumps(list(item_ids)))
    np.savez(out_dir / files["seen"], indptr=seen.indptr, indices=seen.indices, popularity=seen.popularity)
    rows = list(products)
    if rows:
        with (out_dir / "items.jsonl").open("w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        files["items"] = "items.jsonl"
    fingerprint = str(dataset.get("fingerprint", ""))
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_type": model_type,
        "version": version or time.strftime("%Y%m%d-%H%M%S") + "-" + fingerprint[:8],
        "created_at": utc_stamp(),
        "n_users": len(user_ids),
        "n_items": len(item_ids),
        "hyperparameters": dict(hyperparameters),
        "training": dict(training),
        "dataset": dict(dataset),
        "id_maps": {"users": files["user_ids"], "items": files["item_ids"]},
        "files": files,
        "metrics": dict(metrics),
    }
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, default=_jsonable))
    return path


def write_candidates(out_dir: Path, candidates: np.ndarray, n_users: int) -> str:
    """Write the precomputed candidates part and return its file name."""
    if candidates.ndim != 2 or len(candidates) != n_users:
        raise ValueError(f"candidates must hold one row per user ({n_users}), got shape {candidates.shape}")
    np.save(out_dir / "candidates.npy", candidates)
    return "candidates.npy"


def _jsonable(value: object) -> object:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    return str(value)


class Artifact:
    """A written artifact; each part is read from disk the first time it is asked for."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def model_type(self) -> str:
        return str(self.manifest["model_type"])

    @property
    def created_at(self) -> str:
        return str(self.manifest.get("created_at", ""))

    @property
    def data_read_at(self) -> float:
        """When the training data was read (seconds since 1970): interactions after it are not in
        the model. Older artifacts lack the field: their creation time less the training time
        stands in, and 0 (everything is new) when neither is known."""
        training = self.manifest.get("training") or {}
        for stamp, minus in ((training.get("data_read_at"), 0.0),
                             (self.created_at, float(training.get("train_seconds") or 0.0))):
            if stamp:
                try:
                    return calendar.timegm(time.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ")) - minus
                except ValueError:
                    continue
        return 0.0

    @property
    def n_users(self) -> int:
        return int(self.manifest["n_users"])

    @property
    def n_items(self) -> int:
        return int(self.manifest["n_items"])

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return dict(self.manifest.get("hyperparameters", {}))

    @property
    def metrics(self) -> dict[str, float]:
        """The numeric offline metrics the training run recorded."""
        return {k: float(v) for k, v in self.manifest.get("metrics", {}).items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}

    def has(self, part: str) -> bool:
        return part in self.manifest.get("files", {})

    def _file(self, part: str) -> Path:
        name = self.manifest.get("files", {}).get(part)
        if not name:
            raise ArtifactError(f"{self.path} holds a '{self.manifest.get('model_type')}' model without {part}")
        path = (self.path / str(name)).resolve()
        if not path.is_relative_to(self.path.resolve()):  # an absolute name or ../ must not reach elsewhere
            raise ArtifactError(f"{self.path}: the manifest's {part} file '{name}' is outside the artifact")
        return path

    @property
    def weights_path(self) -> Path:
        return self._file("weights")

    @cached_property
    def user_ids(self) -> list[str]:
        return json.loads(self._file("user_ids").read_text())

    @cached_property
    def item_ids(self) -> list[str]:
        return json.loads(self._file("item_ids").read_text())

    @cached_property
    def seen(self) -> SeenItems:
        with np.load(self._file("seen")) as arrays:
            return SeenItems(arrays["indptr"], arrays["indices"], arrays["popularity"])

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """LightGCN's final (user, item) vectors."""
        with np.load(self._file("embeddings")) as arrays:
            return arrays["user"], arrays["item"]

    @property
    def recent_item_weight(self) -> float:
        """How much of each user's most recent item its query carries (0: the plain user vector)."""
        return float(self.hyperparameters.get("recent_item_weight", 0.0))

    def recent_items(self) -> np.ndarray | None:
        """Each user's most recent training item index (-1: none), or None when not stored."""
        with np.load(self._file("embeddings")) as arrays:
            if "recent" not in arrays.files:
                return None
            recent = arrays["recent"]
        if recent.shape != (self.n_users,) or (recent.size and not (
                int(recent.min()) >= NO_ITEM and int(recent.max()) < self.n_items)):
            raise ArtifactError(f"{self.path}: recent items of shape {recent.shape} do not fit "
                                f"{self.n_users} users x {self.n_items} items")
        return recent

    def query_vectors(self, embeddings: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """The vectors a trained user's retrieval ranks items with: the user vectors, each with
        its most recent item blended in when the model was trained with a recent-item weight.
        ``embeddings``: this artifact's (user, item) vectors where the caller has read them already."""
        users, items = embeddings if embeddings is not None else self.embeddings()
        weight = self.recent_item_weight
        recent = self.recent_items() if weight else None
        if recent is None:
            return users
        return blend_recent_item(users, items, recent, weight)

    def candidates(self) -> np.ndarray:
        """Each user's precomputed top unseen item indices, best first: (n_users, C)."""
        candidates = np.load(self._file("candidates"))
        if candidates.ndim != 2 or len(candidates) != self.n_users or (
                candidates.size and not 0 <= int(candidates.min()) <= int(candidates.max()) < self.n_items):
            raise ArtifactError(f"{self.path}: candidates of shape {candidates.shape} do not fit "
                                f"{self.n_users} users x {self.n_items} items")
        return candidates

    def products(self) -> dict[str, dict[str, Any]]:
        """Product rows by item id (empty when the training data had no product metadata)."""
        if not self.has("items"):
            return {}
        rows = (json.loads(line) for line in self._file("items").read_text().splitlines() if line)
        return {row["item_id"]: row for row in rows}


def open_artifact(path: str | Path, needs: tuple[str, ...] = ()) -> Artifact:
    """The artifact at ``path``; ArtifactError when it is none, of another format version, or
    lacks one of the parts in ``needs`` (e.g. ``("embeddings",)`` for a LightGCN-only service)."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        raise ArtifactError(f"{path} is not a model artifact: {MANIFEST} is missing")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{manifest_path} is not valid JSON: {error}") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{manifest_path}: unsupported artifact format_version {manifest.get('format_version')}")
    artifact = Artifact(path, manifest)
    missing = [part for part in needs if not artifact.has(part)]
    if missing:
        raise ArtifactError(f"{path} holds a '{artifact.model_type}' model without {', '.join(missing)}; "
                            "this service needs a LightGCN artifact")
    return artifact


def artifact_version(path: Path) -> str | None:
    """The version the manifest names, or None while it is missing or half-written."""
    try:
        return str(json.loads((path / MANIFEST).read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None
