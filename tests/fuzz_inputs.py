"""Test helper: seeded generators of hostile inputs for any protobuf message: random bytes,
mutations of a valid message's bytes, and messages whose fields hold edge values (empty, huge,
control characters, NaN, negative, out of range), nested and repeated at random."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

STRINGS = ["", " ", "U0000001", "U0000042", "P0000001", "P0000003", "x" * 129, "y" * 5000, "a\x00b", "tab\there",
           "new\nline", "\u202eevil", "emoji-\U0001f600", "../../etc/passwd", "' OR 1=1 --", "%s%s%n", "ctrl-\x1b",
           "INTERACTION_TYPE_CLICK", "lightgcn", "stable", "canary"]
INTS = [0, 1, -1, 2, 5, 10, 50, 100, 101, 1000, 5001, 2**31 - 1, -2**31]
FLOATS = [0.0, 1.0, -1.0, 0.5, 2.5, 3.0, 5.0, 6.0, 1e-300, 1e300, -1e300, math.nan, math.inf, -math.inf]


def fill(message: Message, rng: random.Random, depth: int = 0) -> Message:
    """Set a random subset of ``message``'s fields to edge values (recursively)."""
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.35:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target = getattr(message, field.name)
            for _ in range(rng.randint(0, 3)):
                key = rng.choice(STRINGS)[:64]
                value_field = field.message_type.fields_by_name["value"]
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    fill(target[key], rng, depth + 1)
                else:
                    target[key] = _scalar(value_field, rng)
            continue
        if field.is_repeated:
            count = rng.choice([0, 1, 2, 3, 10, 200, 1001]) if depth < 2 else rng.randint(0, 2)
            target = getattr(message, field.name)
            for _ in range(count):
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    if depth < 3:
                        fill(target.add(), rng, depth + 1)
                else:
                    target.append(_scalar(field, rng))
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth < 3:
                fill(getattr(message, field.name), rng, depth + 1)
            continue
        setattr(message, field.name, _scalar(field, rng))
    return message


def _scalar(field: FieldDescriptor, rng: random.Random) -> object:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return rng.choice(STRINGS)
    if kind == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randint(0, 32))
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_ENUM:
        return rng.choice([value.number for value in field.enum_type.values] + [99, -7])
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        value = rng.choice(FLOATS)
        return max(-3.4e38, min(3.4e38, value)) if kind == FieldDescriptor.TYPE_FLOAT and math.isfinite(value) \
            else value
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED32,
                FieldDescriptor.TYPE_FIXED64):
        return abs(rng.choice(INTS))
    return rng.choice(INTS)  # int32, int64, sint*, sfixed*


def mutate(payload: bytes, rng: random.Random) -> bytes:
    """Flip, drop, duplicate or truncate bytes of ``payload``."""
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        action = rng.randrange(4)
        if not data or action == 0:
            data[rng.randrange(len(data) + 1):rng.randrange(len(data) + 1)] = rng.randbytes(rng.randint(1, 8))
        elif action == 1:
            position = rng.randrange(len(data))
            data[position] ^= 1 << rng.randrange(8)
        elif action == 2:
            del data[rng.randrange(len(data)):]
        else:
            start = rng.randrange(len(data))
            data[start:start] = data[start:start + rng.randint(1, 16)]
    return bytes(data)


def payloads(valid: list[Message], blank: type[Message], count: int, seed: int) -> Iterator[bytes]:
    """``count`` request bodies: a third random bytes, a third mutations of ``valid`` messages, a third
    ``blank`` messages with edge-value fields."""
    rng = random.Random(seed)
    encoded = [message.SerializeToString() for message in valid]
    for n in range(count):
        kind = n % 3
        if kind == 0:
            yield rng.randbytes(rng.choice([0, 1, 2, 5, 17, 64, 300]))
        elif kind == 1:
            yield mutate(rng.choice(encoded), rng)
        else:
            yield fill(blank(), rng).SerializeToString()
