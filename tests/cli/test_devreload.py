"""RECSYS_DEV_RELOAD: a changed source file re-executes the running command (the tilt loop)."""

from __future__ import annotations

import importlib
import os
import sys
import threading

from cli import devreload


def test_a_changed_source_file_reexecutes_the_command(tmp_path, monkeypatch):
    package = tmp_path / "devpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("devpkg")
    monkeypatch.setattr(devreload, "PACKAGES", ("devpkg",))
    monkeypatch.setattr(sys, "argv", ["recsys", "serve", "gateway"])
    reexecuted = threading.Event()
    calls = []
    monkeypatch.setattr(os, "execv", lambda path, argv: (calls.append(argv), reexecuted.set()))
    devreload.watch_and_reexec(interval_s=0.05)
    assert not reexecuted.wait(0.3)  # nothing changed yet
    stat = (package / "mod.py").stat()
    os.utime(package / "mod.py", (stat.st_atime, stat.st_mtime + 10))
    assert reexecuted.wait(5)
    assert calls[0][1:] == ["-m", "cli.main", "serve", "gateway"]
