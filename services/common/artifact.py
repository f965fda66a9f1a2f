"""Reading the parts of a model artifact (see training/artifacts.py) that services need."""

from __future__ import annotations

import json
from pathlib import Path

from services.common.errors import InvalidRequest


def read_manifest(artifact: Path, needs: tuple[str, ...] = ()) -> dict:
    """The artifact's manifest; InvalidRequest when it is missing or lacks a file kind in ``needs``."""
    path = artifact / "manifest.json"
    if not path.exists():
        raise InvalidRequest(f"{artifact} is not a model artifact: manifest.json is missing")
    manifest = json.loads(path.read_text())
    missing = [kind for kind in needs if kind not in manifest.get("files", {})]
    if missing:
        raise InvalidRequest(f"{artifact} holds a '{manifest.get('model_type')}' model without "
                             f"{', '.join(missing)}; this service needs a LightGCN artifact")
    return manifest


def read_catalog(artifact: Path, manifest: dict) -> dict[str, dict]:
    """Product rows by item id from items.jsonl (empty when the data had no metadata)."""
    name = manifest["files"].get("items")
    if not name:
        return {}
    rows = (json.loads(line) for line in (artifact / name).read_text().splitlines() if line)
    return {row["item_id"]: row for row in rows}
