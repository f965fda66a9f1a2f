"""RECSYS_DEV_RELOAD: a changed source file re-executes the running command (the tilt loop)."""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time

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


def test_a_package_imported_after_the_watch_began_is_not_a_change(tmp_path, monkeypatch):
    """The bug `tilt ci` on the node found: commands import packages lazily, and the watcher took each
    newly imported package for changed sources, re-executing every pod forever."""
    for name in ("eager", "lazy"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("eager")
    monkeypatch.setattr(devreload, "PACKAGES", ("eager", "lazy"))
    monkeypatch.setattr(sys, "argv", ["recsys", "serve", "gateway"])
    reexecuted = threading.Event()
    monkeypatch.setattr(os, "execv", lambda path, argv: reexecuted.set())
    devreload.watch_and_reexec(interval_s=0.05)
    time.sleep(0.3)  # the watcher has taken its first look
    importlib.import_module("lazy")
    assert not reexecuted.wait(0.5)
    (tmp_path / "lazy" / "new.py").write_text("")  # a file Tilt syncs into a lazily imported package
    assert reexecuted.wait(5)
