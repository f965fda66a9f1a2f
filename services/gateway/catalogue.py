"""The gateway's own copy of the catalogue: product details for GetProduct and responses, and the
popularity list it falls back on when retrieval is down (honouring the same filters)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.v1 import common_pb2
from services.common.artifact import read_catalog, read_manifest
from services.retrieval.index import ItemFilter, ItemIndex


@dataclass
class Catalogue:
    version: str
    model_type: str
    metrics: dict[str, float]
    n_users: int
    products: dict[str, dict]
    popular: ItemIndex  # popularity-only index (no vectors) over every item

    @classmethod
    def from_artifact(cls, artifact: Path) -> "Catalogue":
        manifest = read_manifest(artifact)
        files = manifest["files"]
        item_ids = json.loads((artifact / files["item_ids"]).read_text())
        products = {item: {"item_id": item} for item in item_ids} | read_catalog(artifact, manifest)
        popularity = np.load(artifact / files["seen"])["popularity"]
        metrics = {k: float(v) for k, v in manifest.get("metrics", {}).items() if isinstance(v, (int, float))}
        return cls(str(manifest["version"]), str(manifest["model_type"]), metrics, int(manifest["n_users"]),
                   products, ItemIndex(item_ids, np.zeros((len(item_ids), 1), np.float32), popularity, products))

    def product(self, item_id: str) -> common_pb2.Product | None:
        row = self.products.get(item_id)
        if row is None:
            return None
        product = common_pb2.Product(item_id=item_id, title=row.get("title") or "",
                                     categories=row.get("categories") or [], brand=row.get("brand") or "")
        if isinstance(row.get("price"), (int, float)):
            product.price = float(row["price"])
        return product

    def most_popular(self, k: int, exclude: list[str], item_filter: ItemFilter) -> list[tuple[str, float]]:
        hits = self.popular.most_popular(k, self.popular.indices_of(exclude), item_filter)
        return [(self.popular.item_ids[i], float(np.log1p(max(s, 0.0)))) for i, s in zip(hits.indices, hits.scores)]
