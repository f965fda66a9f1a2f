"""Item filters: which products a query may return (AND across fields, OR within a field)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InvalidRequest


class FilterError(InvalidRequest):
    """A filter that cannot be satisfied as written (e.g. min price above max price)."""


@dataclass(frozen=True)
class ItemFilter:
    """A valid filter: construction checks it (FilterError), so holders never re-validate."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("min_price", self.min_price), ("max_price", self.max_price)):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise FilterError(f"{name} must be a finite, non-negative number, got {value}")
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise FilterError(f"min_price {self.min_price} is above max_price {self.max_price}")

    @property
    def empty(self) -> bool:
        return not (self.categories or self.brands or self.min_price is not None or self.max_price is not None)
