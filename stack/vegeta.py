"""vegeta, the HTTP load generator, built from its Go module with the machine's Go (once, into the
cache): an independent client for the HTTP API's benchmark, lighter on the shared cores than any
Python client."""

from __future__ import annotations

from pathlib import Path

from stack.gobuild import go_tool

VEGETA_VERSION = "v12.13.0"


def vegeta_binary() -> Path:
    return go_tool("vegeta", "github.com/tsenart/vegeta/v12", VEGETA_VERSION)
