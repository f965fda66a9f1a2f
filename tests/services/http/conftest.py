"""`recsys serve all` with its HTTP port, on the embedded default's event pipeline (in-process bus,
stream processor, SQLite store), shared by the API and browser tests of this folder."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from http_helpers import Served, request
from servers import start_serve_all


@pytest.fixture(scope="package")
def served(publish, tmp_path_factory) -> Iterator[Served]:
    lightgcn, neumf = publish("lightgcn", "http-v1"), publish("neumf", "http-ncf-v1")
    root = tmp_path_factory.mktemp("http")
    process, ports, log = start_serve_all(lightgcn, neumf, root)
    base = f"http://127.0.0.1:{ports['http']}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if request("GET", base + "/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "serve all did not become ready: " + log.read_text()[-3000:]
            time.sleep(0.3)
        yield Served(base, f"127.0.0.1:{ports['gateway']}", f"http://127.0.0.1:{ports['metrics']}/metrics",
                     json.loads((lightgcn / "item_ids.json").read_text()), log)
    finally:
        process.terminate()
        process.wait(30)
