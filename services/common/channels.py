"""Client channels to a service that runs as several replicas.

A Kubernetes ClusterIP Service balances connections, not calls, and a gRPC channel keeps one HTTP/2
connection: every call would go to one pod. The chart's backend Services are headless instead, so
their DNS name resolves to every ready pod, and these channels keep a connection to each address
and send calls round robin. The servers close connections after a maximum age
(services/common/server.py), which makes the channel resolve the name again: pods added by a
scale-up or a rollout start receiving calls within that age. Keepalive pings notice a peer that
vanished without closing its connections (a deleted node, a partition)."""

from __future__ import annotations

import grpc

from core.security import Security
from services.common.tls import channel_credentials

KEEPALIVE_MS = 30_000  # the servers accept pings this often (server.py: MIN_PING_INTERVAL_MS)
CHANNEL_OPTIONS = (
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.keepalive_time_ms", KEEPALIVE_MS),
    ("grpc.keepalive_timeout_ms", 10_000),
    # each channel its own connections: channels to the same address would otherwise share one
    ("grpc.use_local_subchannel_pool", 1),
)


def balanced_channel(target: str, security: Security = Security()) -> grpc.aio.Channel:
    """A channel that spreads calls over every address ``target`` resolves to (``host:port``: DNS),
    over TLS when ``security`` has certificates (the server's name in ``target`` is verified)."""
    if security.tls:
        return grpc.aio.secure_channel(target, channel_credentials(security), options=CHANNEL_OPTIONS)
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
