"""One place that turns exceptions into gRPC status codes (applied to every call by
services/common/pipeline.py, and to the in-process hops by cli/local_backends.py).

Servicers raise domain errors; clients get the right code and a message they can act on, and an
unexpected error becomes INTERNAL (logged with its traceback) instead of a dropped connection.
"""

from __future__ import annotations

import logging
import time

import grpc

from core.errors import ArtifactError, InvalidRequest, NotFound, Unavailable

log = logging.getLogger(__name__)


def status_for(error: BaseException) -> grpc.StatusCode:
    if isinstance(error, (InvalidRequest, ArtifactError)):
        return grpc.StatusCode.INVALID_ARGUMENT
    if isinstance(error, NotFound):
        return grpc.StatusCode.NOT_FOUND
    if isinstance(error, Unavailable):
        return grpc.StatusCode.UNAVAILABLE
    return grpc.StatusCode.INTERNAL


_UNDECODABLE: dict[str, list[float]] = {}  # method -> [time of the last report, calls since]
REPORT_EVERY_S = 60.0


def report_undecodable(method: str) -> None:
    """One log line per method and minute, however many bad bodies arrive (a fuzzer or a broken
    client must not flood the log)."""
    last, count = _UNDECODABLE.setdefault(method, [0.0, 0])
    now = time.monotonic()
    if now - last >= REPORT_EVERY_S:
        log.warning("%s: %d request(s) whose body is not the method's message (reported once a minute)",
                    method, count + 1)
        _UNDECODABLE[method] = [now, 0]
    else:
        _UNDECODABLE[method][1] = count + 1


def client_message(error: BaseException, code: grpc.StatusCode) -> str:
    """What the caller reads: a domain error's own message; for anything unexpected only its kind,
    since its text may hold SQL, parameters or paths (the server log has the whole of it)."""
    if code == grpc.StatusCode.INTERNAL:
        return f"internal error ({type(error).__name__}); the server log has the details"
    return str(error)


def report_unexpected(method: str) -> None:
    """Log the exception being handled, traceback and all: the caller only hears its kind."""
    log.exception("unexpected error in %s", method)
