"""`recsys serve all` with its HTTP port, on the embedded default's event pipeline (in-process bus,
stream processor, SQLite store), shared by the API and browser tests of this folder, and a real
headless Chromium (Debian's chromium and chromium-driver, driven by Selenium; nothing is downloaded
at test time)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_helpers import Served, request
from selenium import webdriver
from servers import start_serve_all

from stack.process import apt_install

OUTPUT = Path(os.environ.get("RECSYS_TEST_OUTPUT", Path(__file__).resolve().parents[3] / "test-output")) / "web"


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


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        apt_install("chromium", "chromium-driver")
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download a browser
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
