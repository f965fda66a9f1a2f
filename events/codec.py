"""UserEvent encoding, decoding and validation.

A message that fails here goes to the dead-letter topic with the reason; nothing is dropped silently.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.message import DecodeError

from core.event_types import EventType
from core.ids import MAX_ID_LENGTH as ID_LENGTH
from core.ids import has_control_characters
from recsys.v1 import common_pb2, events_pb2

MAX_EVENT_BYTES = 16 * 1024
# Events from the far future are a producer's clock bug, not data.
MAX_CLOCK_SKEW_S = 24 * 3600
OLDEST_EVENT = datetime(1995, 1, 1, tzinfo=UTC).timestamp()  # before any e-commerce log

PROTO_TYPES = {
    common_pb2.INTERACTION_TYPE_VIEW: EventType.VIEW,
    common_pb2.INTERACTION_TYPE_CLICK: EventType.CLICK,
    common_pb2.INTERACTION_TYPE_ADD_TO_CART: EventType.ADD_TO_CART,
    common_pb2.INTERACTION_TYPE_PURCHASE: EventType.PURCHASE,
    common_pb2.INTERACTION_TYPE_RATING: EventType.RATING,
}
TYPE_CODES = {kind: code for code, kind in PROTO_TYPES.items()}


class InvalidEvent(ValueError):
    """The event cannot be stored; ``reason`` is a short code for metrics, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ValidEvent:
    event_id: str
    user_id: str
    item_id: str
    event_type: EventType
    value: float
    occurred_at: datetime
    session_id: str | None
    model_version: str | None

    def copy_row(self) -> tuple:
        """The store's column order (repository.EVENT_COLUMNS)."""
        return (self.event_id, self.user_id, self.item_id, self.event_type.value, self.value, self.occurred_at,
                self.session_id, self.model_version)


def make_event(user_id: str, item_id: str, event_type: EventType | str, value: float = 1.0,
               at: float | None = None, session_id: str = "", model_version: str = "",
               event_id: str | None = None) -> events_pb2.UserEvent:
    """A UserEvent with a fresh UUID and the current time unless given."""
    event = events_pb2.UserEvent(event_id=event_id or str(uuid.uuid4()), user_id=user_id, item_id=item_id,
                                 type=TYPE_CODES[EventType(event_type)], value=value,
                                 session_id=session_id, model_version=model_version)
    event.time.FromNanoseconds(int((time.time() if at is None else at) * 1e9))
    return event


def _describe(seconds: float) -> str:
    """A time for a message, also for values no datetime can hold."""
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return f"{seconds:.0f} s after 1970"


def decode(payload: bytes | None, max_bytes: int = MAX_EVENT_BYTES, now: float | None = None) -> ValidEvent:
    """Parse and validate one message value; raises :class:`InvalidEvent`."""
    if payload is None or len(payload) == 0:
        raise InvalidEvent("empty", "the message has no value")
    if len(payload) > max_bytes:
        raise InvalidEvent("oversized", f"the event is {len(payload)} bytes; the limit is {max_bytes}")
    event = events_pb2.UserEvent()
    try:
        event.ParseFromString(payload)
    except DecodeError as exc:
        raise InvalidEvent("undecodable", f"not a recsys.v1.UserEvent ({exc})") from None
    return validate(event, now)


def validate(event: events_pb2.UserEvent, now: float | None = None) -> ValidEvent:
    """Every check an event must pass before the store sees it; anything else raises InvalidEvent,
    never another error (which would abort its whole batch)."""
    for name in ("event_id", "user_id", "item_id"):
        value = getattr(event, name)
        if not value or not value.strip():
            raise InvalidEvent(f"missing_{name}", f"{name} is empty")
        if len(value) > ID_LENGTH:
            raise InvalidEvent(f"long_{name}", f"{name} is {len(value)} characters; the limit is {ID_LENGTH}")
    for name in ("session_id", "model_version"):
        if len(getattr(event, name)) > ID_LENGTH:
            raise InvalidEvent(f"long_{name}", f"{name} is longer than {ID_LENGTH} characters")
    for name in ("event_id", "user_id", "item_id", "session_id", "model_version"):
        if has_control_characters(getattr(event, name)):
            raise InvalidEvent(f"control_character_{name}", f"{name} holds a control character")
    kind = PROTO_TYPES.get(event.type)
    if kind is None:
        raise InvalidEvent("bad_type", f"type {event.type} is not one of view, click, add_to_cart, "
                                       "purchase, rating")
    value = float(event.value)
    if kind is EventType.RATING:
        if not 1.0 <= value <= 5.0:
            raise InvalidEvent("bad_value", f"a rating must be between 1 and 5, got {value:g}")
    elif value == 0.0:
        value = 1.0  # proto3 default: unset means one interaction
    elif not (0 < value < math.inf):
        raise InvalidEvent("bad_value", f"value must be positive and finite, got {value:g}")
    if not event.HasField("time"):
        raise InvalidEvent("missing_time", "time is not set")
    if not 0 <= event.time.nanos <= 999_999_999:
        raise InvalidEvent("bad_time", f"time.nanos must be within 0..999999999, got {event.time.nanos}")
    seconds = event.time.seconds + event.time.nanos / 1e9
    now = time.time() if now is None else now
    if seconds > now + MAX_CLOCK_SKEW_S:
        raise InvalidEvent("future_time", f"time {_describe(seconds)} is in the future")
    if seconds < OLDEST_EVENT:
        raise InvalidEvent("ancient_time", f"time {_describe(seconds)} is before 1995")
    return ValidEvent(event.event_id, event.user_id, event.item_id, kind, value,
                      datetime.fromtimestamp(seconds, UTC), event.session_id or None,
                      event.model_version or None)
