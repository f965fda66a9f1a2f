"""Test helper: calling the HTTP API (status, JSON body and headers; error statuses are answers)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Served:
    http: str  # base URL
    gateway: str  # gRPC address
    metrics: str  # /metrics URL
    items: list[str]
    log: Path

    def get(self, path: str) -> tuple[int, dict, dict]:
        return request("GET", self.http + path)

    def post(self, path: str, body: object | bytes) -> tuple[int, dict, dict]:
        return request("POST", self.http + path, body)


def request(method: str, url: str, body: object | bytes | None = None, headers: dict[str, str] | None = None,
            context: ssl.SSLContext | None = None) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one HTTP call; error statuses are answers, not exceptions.
    ``context``: how to verify an https server."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    call = urllib.request.Request(url, data=data, method=method, headers={**sent, **(headers or {})})
    try:
        with urllib.request.urlopen(call, timeout=30, context=context) as answer:
            raw, status, headers = answer.read(), answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        raw, status, headers = error.read(), error.code, dict(error.headers)
    return status, json.loads(raw) if raw else {}, headers
