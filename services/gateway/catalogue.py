"""The gateway's own copy of the catalogue: product details for GetProduct and responses, and the
popularity list it falls back on when retrieval is down (honouring the same filters)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.artifact import open_artifact
from core.filters import ItemFilter
from core.products import ProductAttributes, most_popular, popularity_order
from recsys.v1 import common_pb2

# response items kept per product: two reasons times a few model versions (a route's canary)
MAX_KEPT_ITEMS_PER_PRODUCT = 8


@dataclass
class Catalogue:
    version: str
    model_type: str
    created_at: str  # ISO 8601, UTC
    metrics: dict[str, float]
    n_users: int
    item_ids: list[str]
    products: dict[str, dict]
    attributes: ProductAttributes
    popularity: np.ndarray  # popularity_order scores by item position

    def __post_init__(self) -> None:
        self.position = {item: i for i, item in enumerate(self.item_ids)}
        self._messages: dict[str, common_pb2.Product] = {}  # built on first use: a response copies them
        self._items: dict[tuple[str, str, str], common_pb2.RecommendedItem] = {}

    @classmethod
    def from_artifact(cls, artifact: Path) -> Catalogue:
        stored = open_artifact(artifact)
        item_ids = stored.item_ids
        products = {item: {"item_id": item} for item in item_ids} | stored.products()
        return cls(stored.version, stored.model_type, stored.created_at, stored.metrics, stored.n_users, item_ids,
                   products, ProductAttributes(item_ids, products), popularity_order(stored.seen.popularity))

    def product(self, item_id: str) -> common_pb2.Product | None:
        message = self._messages.get(item_id)
        if message is None and item_id in self.products:
            message = self._messages[item_id] = self._message(item_id)
        return message

    def recommended_item(self, item_id: str, model_version: str, reason: str) -> common_pb2.RecommendedItem:
        """A response item without its score, built once per item, version and reason: a response
        copies it in one step instead of building the item and its product field by field."""
        key = (item_id, model_version, reason)
        item = self._items.get(key)
        if item is None:
            if len(self._items) >= MAX_KEPT_ITEMS_PER_PRODUCT * max(1, len(self.products)):
                self._items.clear()  # versions come and go with routes: keep the memory bounded
            item = self._items[key] = common_pb2.RecommendedItem(item_id=item_id, model_version=model_version,
                                                                 reason=reason, product=self.product(item_id))
        return item

    def _message(self, item_id: str) -> common_pb2.Product:
        row = self.products[item_id]
        product = common_pb2.Product(item_id=item_id, title=row.get("title") or "",
                                     categories=row.get("categories") or [], brand=row.get("brand") or "")
        if isinstance(row.get("price"), (int, float)):
            product.price = float(row["price"])
        return product

    def most_popular(self, k: int, exclude: Sequence[str], item_filter: ItemFilter) -> list[tuple[str, float]]:
        excluded = np.fromiter((self.position[i] for i in exclude if i in self.position), dtype=np.int64)
        ranked = most_popular(self.popularity, k, excluded, self.attributes.mask(item_filter))
        return [(self.item_ids[i], float(np.log1p(max(s, 0.0))))
                for i, s in zip(ranked.positions.tolist(), ranked.scores.tolist())]
