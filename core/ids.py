"""Id and id-list checks every entry point shares, raising InvalidRequest with the reason."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.errors import InvalidRequest

MAX_ID_LENGTH = 128  # the store's id columns are this wide: every entry point enforces it


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control_characters(value: str) -> bool:
    """True for C0/C1 controls and DEL (a NUL or a line break in an id corrupts logs, CSV and SQL)."""
    return _CONTROL_CHARACTER.search(value) is not None  # every call checks ids: in C, not per character


def require_id(value: str, field: str) -> str:
    if not value:
        raise InvalidRequest(f"{field} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRequest(f"{field} must be at most {MAX_ID_LENGTH} characters, got {len(value)}")
    if has_control_characters(value):
        raise InvalidRequest(f"{field} must not contain control characters")
    return value


def require_ids(values: Sequence[str], field: str, max_count: int, allow_empty: bool = False) -> list[str]:
    if not values and not allow_empty:
        raise InvalidRequest(f"{field} must not be empty")
    if len(values) > max_count:
        raise InvalidRequest(f"{field} holds {len(values)} ids; at most {max_count} are allowed")
    for value in values:
        require_id(value, field)
    return list(values)
