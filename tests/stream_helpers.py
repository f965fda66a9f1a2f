"""Running `recsys stream` as a real process in tests, and waiting on the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from store.db import make_engine


class StreamProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**os.environ, **env}
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> StreamProcess:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "stream"], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(5)
        return self.proc.returncode if self.proc else 0

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def stored(url: str) -> tuple[int, int]:
    """(rows, distinct event ids) in the interactions table."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT count(*), count(DISTINCT event_id) FROM interactions")).one()
        return int(row[0]), int(row[1])
    finally:
        engine.dispose()


def wait_for_rows(url: str, expected: int, timeout_s: float, process: StreamProcess | None = None) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    counts = (0, 0)
    while time.monotonic() < deadline:
        try:
            counts = stored(url)
        except Exception:  # noqa: BLE001 - the database may be restarting in the test (any driver error: retry)
            counts = counts
        if counts[0] >= expected:
            return counts
        if process is not None and process.proc.poll() is not None:
            raise AssertionError(f"stream processor exited ({process.proc.returncode}):\n{process.output()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"only {counts[0]} of {expected} rows after {timeout_s} s"
                         + (f"\n{process.output()[-3000:]}" if process else ""))
