"""The kinds of user event the product records (the store's enum and the protos' EventType)."""

from __future__ import annotations

import enum


class EventType(str, enum.Enum):
    VIEW = "view"
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    RATING = "rating"


# Events that say the user wanted the item (ratings only from 3 up): they move the user's vector;
# views do not.
POSITIVE_TYPES = frozenset({EventType.CLICK, EventType.ADD_TO_CART, EventType.PURCHASE, EventType.RATING})
