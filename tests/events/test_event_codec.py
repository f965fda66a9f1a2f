"""UserEvent validation: every way an event can be unusable has its own reason."""

from __future__ import annotations

import time

import pytest

from core.event_types import EventType
from events.codec import InvalidEvent, decode, make_event
from recsys.v1 import events_pb2


def _reason(payload: bytes, **kwargs) -> str:
    with pytest.raises(InvalidEvent) as info:
        decode(payload, **kwargs)
    return info.value.reason


def test_a_valid_event_round_trips():
    event = make_event("u1", "p1", "purchase", session_id="s", model_version="v2")
    valid = decode(event.SerializeToString())
    assert (valid.user_id, valid.item_id, valid.event_type, valid.value) == ("u1", "p1", EventType.PURCHASE, 1.0)
    assert valid.model_version == "v2" and valid.session_id == "s"
    assert abs(valid.occurred_at.timestamp() - time.time()) < 5


@pytest.mark.parametrize("change, reason", [
    ({"event_id": ""}, "missing_event_id"),
    ({"user_id": "  "}, "missing_user_id"),
    ({"item_id": ""}, "missing_item_id"),
    ({"user_id": "u" * 200}, "long_user_id"),
    ({"model_version": "v" * 200}, "long_model_version"),
    ({"type": 0}, "bad_type"),
    ({"type": 42}, "bad_type"),
    ({"value": -1.0}, "bad_value"),
    ({"value": float("inf")}, "bad_value"),
    ({"value": float("nan")}, "bad_value"),
    ({"user_id": "u\x00v"}, "control_character_user_id"),
    ({"item_id": "p\r"}, "control_character_item_id"),
    ({"event_id": "e\n1"}, "control_character_event_id"),
    ({"session_id": "s\x7f"}, "control_character_session_id"),
    ({"model_version": "v\x1b[1m"}, "control_character_model_version"),
])
def test_invalid_fields_are_named(change, reason):
    event = make_event("u1", "p1", "click")
    for name, value in change.items():
        setattr(event, name, value)
    assert _reason(event.SerializeToString()) == reason


def test_ratings_must_be_between_one_and_five():
    assert _reason(make_event("u", "p", "rating", value=7).SerializeToString()) == "bad_value"
    assert _reason(make_event("u", "p", "rating", value=0).SerializeToString()) == "bad_value"
    assert decode(make_event("u", "p", "rating", value=4).SerializeToString()).value == 4.0


def test_times_must_be_plausible():
    assert _reason(make_event("u", "p", "view", at=time.time() + 3 * 86400).SerializeToString()) == "future_time"
    assert _reason(make_event("u", "p", "view", at=100.0).SerializeToString()) == "ancient_time"
    event = make_event("u", "p", "view")
    event.ClearField("time")
    assert _reason(event.SerializeToString()) == "missing_time"


@pytest.mark.parametrize("seconds, nanos, reason", [
    (253402300800, 0, "future_time"),  # past year 9999: protobuf's own formatting raises on it
    (2**62, 0, "future_time"),
    (-(2**62), 0, "ancient_time"),
    (-62135596801, 0, "ancient_time"),
    (1_700_000_000, -1, "bad_time"),
    (1_700_000_000, 1_000_000_000, "bad_time"),
])
def test_out_of_range_times_are_invalid_events_not_errors(seconds, nanos, reason):
    """A ValueError here would abort the processor's whole batch, every time it is replayed."""
    event = make_event("u", "p", "view")
    event.time.seconds, event.time.nanos = seconds, nanos
    assert _reason(event.SerializeToString()) == reason


def test_garbage_empty_and_oversized_payloads():
    assert _reason(b"") == "empty"
    assert _reason(None) == "empty"
    assert _reason(b"\xff\xff\xff\xff") == "undecodable"
    big = make_event("u", "p", "view", session_id="s" * 100)
    assert _reason(big.SerializeToString(), max_bytes=64) == "oversized"


def test_unset_value_means_one_interaction():
    event = events_pb2.UserEvent(event_id="e", user_id="u", item_id="p", type=2)
    event.time.GetCurrentTime()
    assert decode(event.SerializeToString()).value == 1.0
