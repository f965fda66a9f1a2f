"""The operator's side of the artifacts volume: reading training results and pointing the serving
tracks (``<model>/stable``, ``<model>/canary``) at a version with atomic symlink flips, which the
serving services pick up by hot reload (RECSYS_ARTIFACT=<root>/<model>/<track>)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_result(path: Path) -> dict[str, Any] | None:
    """The Job's result.json, or None while it is not there."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        return {"status": "failed", "message": f"unreadable result {path}: {exc}"}


def point_track(model_dir: Path, track: str, version: str) -> None:
    """``model_dir/track -> version``, replaced atomically (a reader sees the old or the new one)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    link = model_dir / track
    temporary = model_dir / f".{track}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(version, temporary)
    os.replace(temporary, link)


def clear_track(model_dir: Path, track: str) -> None:
    (model_dir / track).unlink(missing_ok=True)


def track_version(model_dir: Path, track: str) -> str | None:
    link = model_dir / track
    return os.readlink(link) if link.is_symlink() else None
