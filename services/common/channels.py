"""Client channels to a service that runs as several replicas.

A Kubernetes ClusterIP Service balances connections, not calls, and a gRPC channel keeps one HTTP/2
connection: every call would go to one pod. The chart's backend Services are headless instead, so
their DNS name resolves to every ready pod, and these channels keep a connection to each address
and send calls round robin. The servers close connections after a maximum age
(services/common/server.py), which makes the channel resolve the name again: pods added by a
scale-up or a rollout start receiving calls within that age. Keepalive pings notice a peer that
vanished without closing its connections (a deleted node, a partition).

The channels also watch each server's health (client-side health checking, the standard
grpc.health.v1 Watch): a pod that says NOT_SERVING, while it loads its model or drains after
SIGTERM, gets no new calls, even before its address leaves the DNS answer. A call refused with
UNAVAILABLE (a connection lost, a server going away) is retried on another pod, up to twice: every
call the gateway makes is a read."""

from __future__ import annotations

import json

import grpc

from core.security import Security
from services.common.tls import channel_credentials

KEEPALIVE_MS = 30_000  # the servers accept pings this often (server.py: MIN_PING_INTERVAL_MS)
RETRY_UNAVAILABLE = {"name": [{}],  # every method
                     "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.02s", "maxBackoff": "0.2s",
                                     "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}
# "" is the server as a whole (services/common/server.py)
HEALTH_CHECKED = {"healthCheckConfig": {"serviceName": ""}}
_OPTIONS = (
    ("grpc.keepalive_time_ms", KEEPALIVE_MS),
    ("grpc.keepalive_timeout_ms", 10_000),
    # each channel its own connections: channels to the same address would otherwise share one
    ("grpc.use_local_subchannel_pool", 1),
)


def channel_options(watch_health: bool = True) -> tuple[tuple[str, object], ...]:
    """The options of a balanced channel (also for a blocking ``grpc.insecure_channel``)."""
    config = {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": [RETRY_UNAVAILABLE]}
    return (*_OPTIONS, ("grpc.service_config", json.dumps({**config, **HEALTH_CHECKED} if watch_health else config)))


def balanced_channel(target: str, security: Security = Security(), watch_health: bool = True) -> grpc.aio.Channel:
    """A channel that spreads calls over every address ``target`` resolves to (``host:port``: DNS),
    over TLS when ``security`` has certificates (the server's name in ``target`` is verified);
    ``watch_health``: send calls only to servers that say SERVING."""
    options = channel_options(watch_health)
    if security.tls:
        return grpc.aio.secure_channel(target, channel_credentials(security), options=options)
    return grpc.aio.insecure_channel(target, options=options)
