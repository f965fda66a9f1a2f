"""A PostgreSQL server from the Debian package, run as a plain process on a loopback port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stack.process import LocalServer, StackError, apt_install, port_open, read_pid, spawn, stop_process, wait_for

DATABASE = "recsys"
SUPERUSER = "postgres"


def postgres_bin_dir() -> Path:
    """The newest installed server's bin directory; installs the Debian package when absent."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version_key)
    if not found:
        apt_install("postgresql")
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version_key)
    if not found:
        raise StackError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                         "(apt-get install postgresql)")
    return Path(found[-1]).parent


def _version_key(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def _check_reachable(path: Path, user: str) -> None:
    """The server's user must be able to traverse every parent (pytest's and /root's dirs are 0700)."""
    for parent in path.resolve().parents:
        if not os.stat(parent).st_mode & 0o001:
            raise StackError(f"PostgreSQL's user {user!r} cannot reach {path}: {parent} is not "
                             "world-searchable; put the stack directory under /tmp")


@dataclass
class PostgresServer(LocalServer):
    """One cluster under ``root`` listening on 127.0.0.1:``port`` (trust auth: a local dev server).

    PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user
    the Debian package creates.
    """

    root: Path
    port: int
    name = "postgres"

    @property
    def data_dir(self) -> Path:
        return self.root / "pgdata"

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def start(self, timeout_s: float = 60.0) -> PostgresServer:
        if self.running():
            return self
        if port_open(self.port):
            raise StackError(f"port {self.port} is already in use; choose another for PostgreSQL")
        bin_dir = postgres_bin_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        user = self._run_as()
        fresh = not (self.data_dir / "PG_VERSION").exists()
        if user:
            _check_reachable(self.root, user)
        if fresh:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if user:
                shutil.chown(self.data_dir, user, user)
                shutil.chown(self.root, user, user)
            self._run([str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                       "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], user)
        if user:
            self.log.touch()
            shutil.chown(self.log, user, user)
        spawn([str(bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
               "-h", "127.0.0.1", "-k", str(self.root),
               # small and quick for a 2-core dev machine; durability settings stay at their defaults
               "-c", "shared_buffers=128MB", "-c", "max_connections=200",
               "-c", "max_wal_size=2GB", "-c", "log_min_messages=warning"],
              self.log, self.pid_file, user=user)
        wait_for(lambda: self._ready(bin_dir), timeout_s, "PostgreSQL", self.log)
        if fresh:
            self._run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                       "-U", SUPERUSER, DATABASE], user)
        return self

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions, like a database going away)."""
        if not self.running():
            self.pid_file.unlink(missing_ok=True)
            return
        bin_dir = postgres_bin_dir()
        try:
            self._run([str(bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast",
                       "-w", "-t", "30"], self._run_as())
        except StackError:
            pass
        stop_process(self.pid_file)

    def _ready(self, bin_dir: Path) -> bool:
        if read_pid(self.pid_file) is None:
            raise StackError(f"PostgreSQL exited; see {self.log}:\n{self.log.read_text(errors='replace')[-2000:]}")
        result = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                 "-q"], check=False)
        return result.returncode == 0

    @staticmethod
    def _run_as() -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise StackError("running as root needs the 'postgres' user (created by the Debian "
                             "package) to own the cluster") from None
        return "postgres"

    @staticmethod
    def _run(argv: list[str], user: str | None) -> None:
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
