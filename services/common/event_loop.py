"""Which asyncio event loop a server runs on: uvloop by default, the standard library's on request.

A loaded gRPC server's main thread is the limit of a `serve all` process (it runs gRPC's call
handling, the gateway's Python and the HTTP API), and the standard loop spends a large part of it
in its own Python: the selector, handle objects, callbacks. uvloop (libuv) does that work in C;
grpc.aio and uvicorn both run on it. ``RECSYS_EVENT_LOOP=asyncio`` goes back to the standard loop
(for a comparison, or where uvloop cannot be installed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from core.errors import SettingsError
from core.settings import Setting

T = TypeVar("T")
CHOICES = ("uvloop", "asyncio")
EVENT_LOOP_SETTING = Setting("RECSYS_EVENT_LOOP", "uvloop",
                             "the servers' event loop: uvloop (libuv: less Python per I/O event) or asyncio "
                             "(the standard library's)")


def event_loop_choice(env: Mapping[str, str]) -> str:
    choice = (env.get(EVENT_LOOP_SETTING.name) or "uvloop").strip().lower()
    if choice not in CHOICES:
        raise SettingsError(f"{EVENT_LOOP_SETTING.name} must be uvloop or asyncio, got '{choice}'")
    return choice


def run(main: Coroutine[Any, Any, T], loop: str = "uvloop") -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    if loop == "uvloop":
        import uvloop  # the serve extra's: imported only by servers

        return uvloop.run(main)
    return asyncio.run(main)
