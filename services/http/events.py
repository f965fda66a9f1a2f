"""POST /events: a user event from JSON into the same pipeline Kafka producers feed.

The body is a ``recsys.v1.UserEvent`` in protobuf's JSON mapping; ``eventId`` and ``time`` may be
left out (a UUID and the time of receipt are filled in), and ``type`` may be given as ``click``
as well as ``INTERACTION_TYPE_CLICK``. It is validated by the stream processor's own codec, so an
event the API accepts is one the processor stores. The answer (202) comes only after the bus has
the event: Kafka's acknowledgement (acks=all), or the in-process bus of the embedded default.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Protocol

from events.codec import TYPE_CODES, validate
from recsys.v1 import common_pb2, events_pb2

TYPE_NAMES = {kind.value: common_pb2.InteractionType.Name(code) for kind, code in TYPE_CODES.items()}


class EventSink(Protocol):
    async def send(self, event: events_pb2.UserEvent) -> None:
        """Return once the bus has the event; raise ConnectionError when it could not take it."""

    def close(self) -> None: ...


def complete(body: dict) -> dict:
    """The body with the friendly forms accepted: a lower-case type name, no id, no time."""
    body = dict(body)
    kind = body.get("type")
    if isinstance(kind, str) and kind.lower() in TYPE_NAMES:
        body["type"] = TYPE_NAMES[kind.lower()]
    body.setdefault("eventId", str(uuid.uuid4()))
    return body


def checked_event(event: events_pb2.UserEvent) -> events_pb2.UserEvent:
    """``event`` with its time filled in if missing, after the codec's validation (raises InvalidEvent)."""
    if not event.HasField("time"):
        event.time.FromNanoseconds(time.time_ns())
    event.value = validate(event).value  # unset means one interaction: say so in the answer
    return event


class BusSink:
    """The in-process bus (embedded default): publishing is appending, nothing to wait for."""

    def __init__(self, publisher, topic: str) -> None:
        self.publisher, self.topic = publisher, topic

    async def send(self, event: events_pb2.UserEvent) -> None:
        self.publisher.publish(self.topic, event.user_id.encode(), event.SerializeToString())

    def close(self) -> None:
        return None


class KafkaSink:
    """An idempotent producer whose deliveries resolve per-request futures: the caller learns
    whether the broker has its event, instead of a 202 for an event still in a local queue."""

    def __init__(self, bootstrap: str, topic: str, timeout_s: float = 10.0,
                 client_config: Mapping[str, str] | None = None) -> None:
        from confluent_kafka import Producer

        self.topic = topic
        self._producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                                   "linger.ms": 2, "compression.type": "lz4", "client.id": "recsys-http",
                                   "message.timeout.ms": int(timeout_s * 1000), **(client_config or {})})
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="http-events-producer", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    async def send(self, event: events_pb2.UserEvent) -> None:
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future = loop.create_future()

        def on_delivery(error, _message) -> None:
            loop.call_soon_threadsafe(_settle, delivered, error)

        while True:
            try:
                self._producer.produce(self.topic, key=event.user_id.encode(), value=event.SerializeToString(),
                                       on_delivery=on_delivery)
                break
            except BufferError:  # the local queue is full: let deliveries drain
                await asyncio.sleep(0.01)
        await delivered

    def close(self) -> None:
        self._producer.flush(10)
        self._stop.set()
        self._poller.join(timeout=5)


def _settle(future: asyncio.Future, error) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(ConnectionError(f"the broker did not take the event: {error.str()}"))

