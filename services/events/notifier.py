"""Tells the embedding service about users' new interactions, off the processor's critical path.

Updates are coalesced per user while a flush is in flight, so a burst costs one call per user.
The store already holds every event; a failed update costs freshness, never data, and is counted.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

import grpc

from recsys.v1 import common_pb2, embedding_service_pb2, embedding_service_pb2_grpc
from services.events.codec import TYPE_CODES, ValidEvent
from services.events.metrics import NOTIFICATIONS

log = logging.getLogger(__name__)
MAX_PER_CALL = 1000  # the embedding service's limit per RecordInteractions


class EmbeddingNotifier:
    def __init__(self, target: str, timeout_s: float = 2.0, max_in_flight: int = 64) -> None:
        self.timeout_s = timeout_s
        self.max_in_flight = max_in_flight
        self._channel = grpc.insecure_channel(target)
        self._stub = embedding_service_pb2_grpc.EmbeddingServiceStub(self._channel)
        self._pending: dict[str, list[common_pb2.Interaction]] = defaultdict(list)
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="embedding-notifier", daemon=True)
        self._thread.start()

    def notify(self, events: list[ValidEvent]) -> None:
        with self._cond:
            for event in events:
                interaction = common_pb2.Interaction(item_id=event.item_id, type=TYPE_CODES[event.event_type],
                                                     value=event.value)
                interaction.time.FromDatetime(event.occurred_at)
                self._pending[event.user_id].append(interaction)
            self._cond.notify()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until everything queued so far was sent (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout_s)

    def close(self) -> None:
        self.wait_idle(self.timeout_s * 2)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        self._channel.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed and not self._pending:
                    return
                batch, self._pending = self._pending, defaultdict(list)
                self._busy = True
            try:
                self._send(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, batch: dict[str, list[common_pb2.Interaction]]) -> None:
        calls = []
        for user_id, interactions in batch.items():
            for start in range(0, len(interactions), MAX_PER_CALL):
                request = embedding_service_pb2.RecordInteractionsRequest(
                    user_id=user_id, interactions=interactions[start:start + MAX_PER_CALL])
                calls.append(self._stub.RecordInteractions.future(request, timeout=self.timeout_s))
                if len(calls) >= self.max_in_flight:
                    self._settle(calls)
                    calls = []
        self._settle(calls)

    @staticmethod
    def _settle(calls: list) -> None:
        for call in calls:
            try:
                call.result()
                NOTIFICATIONS.labels("ok").inc()
            except grpc.RpcError as exc:
                NOTIFICATIONS.labels(exc.code().name.lower()).inc()
                log.warning("embedding update failed: %s %s", exc.code().name, exc.details())
