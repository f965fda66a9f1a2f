"""Dynamic micro-batching of model work on one worker thread.

Serving a request is mostly Python (gRPC, protobuf, validation) on the event loop, plus a numeric
kernel (a matrix product over the item matrix, an NCF forward pass) whose cost per call is mostly
fixed: reading the item matrix once, or dispatching a dozen small torch operators. So the kernels
of concurrent requests run together, as one batch, on a worker thread:

- requests queued in the same turn of the event loop start as one batch at the end of that turn
  (no waiting when the service is idle: a lone request is a batch of one);
- while a batch runs, new requests queue up and become the next batch the moment it finishes, so
  batches grow with load and no timer is involved;
- torch and numpy release the GIL inside their kernels, so the event loop keeps parsing and
  answering other requests while a batch computes (two cores used by one process).

Requests with different keys (another model version, another filter) never share a batch. A
caller that gave up (deadline) is simply skipped when results come back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.common.metrics import BATCH_SIZE, labelled

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Item]):
    item: Item
    future: asyncio.Future


class MicroBatcher(Generic[Item, Result]):
    """``await submit(key, item)`` returns ``run(key, items)[i]`` for this item's position i.

    ``run`` executes on the worker thread and must return one result per item, in order; an
    exception it raises reaches every caller of that batch (and only that batch).
    """

    def __init__(self, name: str, run: Callable[[Hashable, Sequence[Item]], Sequence[Result]],
                 max_batch: int = 256) -> None:
        self.name = name
        self.max_batch = max_batch
        self._run = run
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"batch-{name}")
        self._queued: dict[Hashable, list[_Waiting[Item]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._running = False
        self.batches = 0
        self.items = 0

    async def submit(self, key: Hashable, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a new event loop (tests): start afresh on it
            self._loop, self._queued, self._scheduled, self._running = loop, {}, False, False
        waiting = _Waiting(item, loop.create_future())
        self._queued.setdefault(key, []).append(waiting)
        if not (self._scheduled or self._running):
            self._scheduled = True
            loop.call_soon(self._start)
        return await waiting.future

    def _start(self) -> None:
        self._scheduled = False
        if self._running or not self._queued:
            return
        work: list[tuple[Hashable, list[_Waiting[Item]]]] = []
        for key, queued in self._queued.items():
            live = [w for w in queued if not w.future.done()]
            for start in range(0, len(live), self.max_batch):
                work.append((key, live[start:start + self.max_batch]))
        self._queued = {}
        if not work:
            return
        self._running = True
        loop = self._loop
        done = self._executor.submit(self._compute, work)
        done.add_done_callback(lambda f: _call_soon_threadsafe(loop, self._finish, work, f))

    def _compute(self, work: list[tuple[Hashable, list[_Waiting[Item]]]]) -> list[Sequence[Result] | BaseException]:
        outcomes: list[Sequence[Result] | BaseException] = []
        for key, batch in work:
            try:
                results = self._run(key, [w.item for w in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
                outcomes.append(results)
            except Exception as error:  # noqa: BLE001 - handed to the batch's callers
                outcomes.append(error)
        return outcomes

    def _finish(self, work: list[tuple[Hashable, list[_Waiting[Item]]]],
                done: concurrent.futures.Future) -> None:
        self._running = False
        try:
            outcomes = done.result()
        except BaseException as error:  # noqa: BLE001 - the worker itself failed: every caller hears of it
            outcomes = [error] * len(work)
        for (_, batch), outcome in zip(work, outcomes):
            self.batches += 1
            self.items += len(batch)
            labelled(BATCH_SIZE, self.name).observe(len(batch))
            for position, waiting in enumerate(batch):
                if waiting.future.done():  # its caller gave up (deadline) meanwhile
                    continue
                if isinstance(outcome, BaseException):
                    waiting.future.set_exception(outcome)
                else:
                    waiting.future.set_result(outcome[position])
        if self._queued:  # what arrived while this batch ran goes next, together
            self._start()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _call_soon_threadsafe(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: object) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # the loop closed meanwhile (process shutting down): nobody waits any more
        pass
