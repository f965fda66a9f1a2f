"""Starting, finding and stopping the stack's server processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

CACHE_DIR = Path(os.environ.get("RECSYS_CACHE_DIR", Path.home() / ".cache" / "recsys"))


class StackError(RuntimeError):
    """A stack component could not be installed or started; the message says what to look at."""


class LocalServer:
    """Where a stack server keeps its files under ``self.root``; subclasses set ``name``."""

    name: str
    root: Path

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.root / f"{self.name}.pid"

    def running(self) -> bool:
        return read_pid(self.pid_file) is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for(check: Callable[[], bool], timeout_s: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise StackError(f"{what} did not become ready within {timeout_s:.0f} s{tail}")


def spawn(argv: list[str], log: Path, pid_file: Path, env: dict[str, str] | None = None,
          user: str | None = None) -> int:
    """Start ``argv`` detached (own session, so it outlives the caller) and record its pid."""
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    pid_file.write_text(str(proc.pid))
    return proc.pid


def read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def stop_process(pid_file: Path, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> None:
    """Signal the process group recorded in ``pid_file`` and wait for it to exit (SIGKILL after timeout)."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return
    _signal_group(pid, sig)
    deadline = time.monotonic() + timeout_s
    while alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if alive(pid):
        _signal_group(pid, signal.SIGKILL)
        while alive(pid):
            _reap(pid)
            time.sleep(0.05)
    _reap(pid)
    pid_file.unlink(missing_ok=True)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def apt_install(*packages: str) -> None:
    """Install Debian packages (root only): the stack's servers come from the distribution."""
    if os.geteuid() != 0:
        raise StackError(f"{' '.join(packages)} is not installed and this user cannot apt-get install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
                   check=True, env=env, stdout=subprocess.DEVNULL)
