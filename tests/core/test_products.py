"""Item filters and the product attributes they look at (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from core.filters import FilterError, ItemFilter
from core.products import ProductAttributes, most_popular, popularity_order

PRODUCTS = {"a": {"categories": ["Garden"], "brand": "Acme", "price": 5.0},
            "b": {"categories": ["Books", "garden"], "brand": "Zed", "price": 50.0},
            "c": {"categories": ["Books"], "price": None}}


def test_a_filter_is_valid_once_built():
    with pytest.raises(FilterError, match="above max_price"):
        ItemFilter(min_price=9, max_price=1)
    with pytest.raises(FilterError, match="non-negative"):
        ItemFilter(min_price=-1)
    assert ItemFilter().empty and not ItemFilter(brands=("acme",)).empty


def test_masks_are_and_across_fields_or_within_and_case_blind():
    attributes = ProductAttributes(["a", "b", "c"], PRODUCTS)
    assert attributes.mask(ItemFilter()) is None
    assert attributes.mask(ItemFilter(categories=("GARDEN",))).tolist() == [True, True, False]
    assert attributes.mask(ItemFilter(categories=("books", "garden"), max_price=10)).tolist() == [True, False, False]
    assert attributes.mask(ItemFilter(brands=("zed", "acme"))).tolist() == [True, True, False]
    assert attributes.mask(ItemFilter(min_price=0)).tolist() == [True, True, False]  # unknown price fails


def test_most_popular_honours_exclusions_filters_and_ties():
    scores = popularity_order(np.array([3, 5, 5, 1]))
    ranked = most_popular(scores, 3, np.array([1]), None)
    assert ranked.positions.tolist() == [2, 0, 3]
    allowed = np.array([True, False, True, False])
    assert most_popular(scores, 10, np.zeros(0, np.int64), allowed).positions.tolist() == [2, 0]
    with pytest.raises(ValueError, match="positive"):
        most_popular(scores, 0, np.zeros(0, np.int64), None)
