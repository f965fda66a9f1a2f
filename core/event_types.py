"""The kinds of user event the product records (the store's enum and the protos' EventType)."""

from __future__ import annotations

import enum


class EventType(str, enum.Enum):
    VIEW = "view"
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    RATING = "rating"
