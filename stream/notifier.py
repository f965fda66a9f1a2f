"""Tells the embedding service about users' new interactions, off the processor's critical path.

Updates are coalesced while a call is in flight and sent as one BatchRecordInteractions call per
flush (hundreds of users cost one RPC). A failed call is retried (up to ``attempts`` times, merged
with newer updates); the store already holds every event, so an update that still fails costs
freshness, never data, and is counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

import grpc

from events.codec import TYPE_CODES, ValidEvent
from recsys.v1 import common_pb2, embedding_service_pb2, embedding_service_pb2_grpc
from stream.metrics import NOTIFICATIONS

log = logging.getLogger(__name__)
MAX_PER_USER = 1000  # the embedding service's limit per user entry
MAX_USERS = 5000  # and per call


class EmbeddingNotifier:
    def __init__(self, target: str, timeout_s: float = 2.0, attempts: int = 3) -> None:
        self.timeout_s = timeout_s
        self.attempts = attempts
        self._channel = grpc.insecure_channel(target)
        self._stub = embedding_service_pb2_grpc.EmbeddingServiceStub(self._channel)
        self._pending: dict[str, list[common_pb2.Interaction]] = defaultdict(list)
        self._tries: dict[str, int] = {}
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
        self.wait_idle(self.timeout_s * self.attempts)
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
            failed = {}
            try:
                failed = self._send(batch)
            finally:
                with self._cond:
                    self._requeue(failed)
                    self._busy = False
                    self._cond.notify_all()
            if failed:
                time.sleep(0.1)  # let a restarting embedding service come back

    def _send(self, batch: dict[str, list[common_pb2.Interaction]]) -> dict[str, list[common_pb2.Interaction]]:
        users = list(batch.items())
        failed: dict[str, list[common_pb2.Interaction]] = {}
        for start in range(0, len(users), MAX_USERS):
            chunk = users[start:start + MAX_USERS]
            request = embedding_service_pb2.BatchRecordInteractionsRequest(users=[
                embedding_service_pb2.RecordInteractionsRequest(user_id=user, interactions=items[-MAX_PER_USER:])
                for user, items in chunk])
            try:
                self._stub.BatchRecordInteractions(request, timeout=self.timeout_s)
                NOTIFICATIONS.labels("ok").inc(len(chunk))
            except grpc.RpcError as exc:
                code = exc.code()
                log.warning("embedding update of %d users failed: %s %s", len(chunk), code.name, exc.details())
                if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNIMPLEMENTED):
                    NOTIFICATIONS.labels(code.name.lower()).inc(len(chunk))  # retrying cannot help
                else:
                    failed.update(chunk)
        return failed

    def _requeue(self, failed: dict[str, list[common_pb2.Interaction]]) -> None:
        """Put failed users back in front of newer updates, until they run out of attempts."""
        for user, items in failed.items():
            tries = self._tries.get(user, 0) + 1
            if tries >= self.attempts:
                self._tries.pop(user, None)
                NOTIFICATIONS.labels("dropped").inc()
                continue
            self._tries[user] = tries
            self._pending[user] = items + self._pending.get(user, [])
        for user in list(self._tries):
            if user not in failed:
                self._tries.pop(user)
