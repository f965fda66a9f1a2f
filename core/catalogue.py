"""Product metadata keyed by original item id: what an artifact's items.jsonl and the store's
products table hold."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ItemCatalogue:
    """Product metadata keyed by original item id (any field may be missing for an item)."""

    titles: dict[str, str] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    brands: dict[str, str] = field(default_factory=dict)
    prices: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(set(self.titles) | set(self.categories) | set(self.brands) | set(self.prices))

    def describe(self, item_id: str) -> dict[str, object]:
        return {
            "item_id": item_id,
            "title": self.titles.get(item_id),
            "categories": self.categories.get(item_id, []),
            "brand": self.brands.get(item_id),
            "price": self.prices.get(item_id),
        }
