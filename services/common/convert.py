"""Conversions between protobuf messages and domain objects that more than one servicer needs."""

from __future__ import annotations

from core.filters import ItemFilter
from recsys.v1 import common_pb2


def item_filter_of(filters: common_pb2.Filters) -> ItemFilter:
    """The catalogue filter a request's Filters message asks for (exclude_item_ids aside)."""
    return ItemFilter(categories=tuple(filters.categories), brands=tuple(filters.brands),
                      min_price=filters.min_price if filters.HasField("min_price") else None,
                      max_price=filters.max_price if filters.HasField("max_price") else None)


def filters_message(item_filter: ItemFilter) -> common_pb2.Filters:
    """The Filters message for ``item_filter`` (exclusions travel in their own request field)."""
    message = common_pb2.Filters(categories=item_filter.categories, brands=item_filter.brands)
    if item_filter.min_price is not None:
        message.min_price = item_filter.min_price
    if item_filter.max_price is not None:
        message.max_price = item_filter.max_price
    return message
