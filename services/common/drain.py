"""Drain before shutdown: keep serving, NOT_SERVING, until the clients have gone elsewhere.

grpc's server shutdown answers CANCELLED to calls that had arrived but that no handler had picked
up yet (grpc/grpc#41785), so a server that stops while clients still send loses a few calls. Behind
a Kubernetes Service the clients do move by themselves once the pod is terminating: its address
leaves the Service's endpoints (kube-proxy's rules, a headless Service's DNS records), clients that
check health stop choosing it, and a client's connection to it ends at the server's maximum
connection age (a graceful GOAWAY: the calls on it finish and the client reconnects to another pod).
So the server waits until no call has started for a moment, and at most until every connection has
reached that age, and only then stops.
"""

from __future__ import annotations

import asyncio
import logging
import time

from grpc_health.v1._async import HealthServicer

log = logging.getLogger(__name__)

# calls that are not the clients' work: health checks (probes, client-side health watches) and
# reflection keep arriving from whoever watches the pod, and say nothing about traffic
_HOUSEKEEPING = ("/grpc.health.v1.Health/", "/grpc.reflection.")
QUIET_S = 1.0  # no call started for this long: the clients have moved to other pods


class Activity:
    """When a server last received work from a client (touched on each call by
    services/common/pipeline.py, health checks and reflection aside)."""

    def __init__(self) -> None:
        self.last_call_at = time.monotonic()

    def touch(self) -> None:
        self.last_call_at = time.monotonic()

    def quiet_for(self) -> float:
        return time.monotonic() - self.last_call_at


def is_housekeeping(method: str) -> bool:
    """Whether a call (by its full method name) is a health check or reflection, not a client's work."""
    return method.startswith(_HOUSEKEEPING)


async def wait_for_clients_to_leave(activity: Activity, minimum_s: float, maximum_s: float,
                                    quiet_s: float = QUIET_S, poll_s: float = 0.1) -> float:
    """Wait at least ``minimum_s`` (health checkers and endpoint controllers see NOT_SERVING), then
    until no call has started for ``quiet_s``, but no longer than ``maximum_s`` in all; returns the
    seconds waited."""
    started = time.monotonic()
    if minimum_s <= 0:
        return 0.0
    await asyncio.sleep(minimum_s)
    while activity.quiet_for() < quiet_s:
        waited = time.monotonic() - started
        if waited >= maximum_s:
            log.warning("drain: clients still calling after %.0fs; stopping anyway", waited)
            break
        await asyncio.sleep(poll_s)
    waited = time.monotonic() - started
    log.info("drain: no new calls for %.1fs after %.1fs; stopping", activity.quiet_for(), waited)
    return waited


class DrainingHealthServicer(HealthServicer):
    """The standard health service, whose Watch streams (clients' health checking) end when the
    drain is over (``end_watches``), having said NOT_SERVING: open watches would otherwise hold the
    server's shutdown for its whole grace period and then be cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self._watches_end = asyncio.Event()

    async def Watch(self, request, context) -> None:
        watching = asyncio.ensure_future(super().Watch(request, context))
        ending = asyncio.ensure_future(self._watches_end.wait())
        try:
            await asyncio.wait({watching, ending}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watching.cancel()
            ending.cancel()

    def end_watches(self) -> None:
        self._watches_end.set()
