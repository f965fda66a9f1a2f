"""The artifact format on its own: one writer, one reader, clear errors (no torch needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.artifact import SeenItems, artifact_version, open_artifact, write_artifact
from core.errors import ArtifactError


def _write(path, embeddings=True, products=()):
    seen = SeenItems.from_pairs(np.array([1, 0, 1]), np.array([2, 1, 0]), n_users=2, popularity=np.array([1, 1, 1]))
    return write_artifact(path, model_type="lightgcn", user_ids=["u0", "u1"], item_ids=["a", "b", "c"], seen=seen,
                          save_weights=lambda p: p.write_bytes(b"weights"), hyperparameters={"dim": 2},
                          training={"epochs": 1}, dataset={"fingerprint": "abcdef0123"},
                          metrics={"recall@20": np.float32(0.25), "note": "text"}, version="v1",
                          embeddings=(np.ones((2, 2)), np.zeros((3, 2))) if embeddings else None, products=products)


def test_round_trip(tmp_path):
    manifest = _write(tmp_path, products=[{"item_id": "a", "title": "A", "price": 3.5}])
    assert manifest.name == "manifest.json" and (tmp_path / "model.pt").read_bytes() == b"weights"
    artifact = open_artifact(tmp_path, needs=("embeddings",))
    assert (artifact.version, artifact.model_type, artifact.n_users, artifact.n_items) == ("v1", "lightgcn", 2, 3)
    assert artifact.metrics == {"recall@20": 0.25}  # numbers only
    assert artifact.user_ids == ["u0", "u1"] and artifact.item_ids == ["a", "b", "c"]
    assert artifact.seen.of(0).tolist() == [1] and artifact.seen.of(1).tolist() == [0, 2]  # sorted per user
    users, items = artifact.embeddings()
    assert users.shape == (2, 2) and items.shape == (3, 2)
    assert artifact.products() == {"a": {"item_id": "a", "title": "A", "price": 3.5}}
    assert artifact.created_at.endswith("Z") and artifact_version(tmp_path) == "v1"


def test_a_part_a_service_needs_must_be_there(tmp_path):
    _write(tmp_path, embeddings=False)
    assert open_artifact(tmp_path).products() == {}
    with pytest.raises(ArtifactError, match="without embeddings; this service needs a LightGCN artifact"):
        open_artifact(tmp_path, needs=("embeddings",))
    with pytest.raises(ArtifactError, match="without embeddings"):
        open_artifact(tmp_path).embeddings()


def test_not_an_artifact_and_other_formats_are_clear_errors(tmp_path):
    with pytest.raises(ArtifactError, match="not a model artifact: manifest.json is missing"):
        open_artifact(tmp_path)
    assert artifact_version(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{half")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        open_artifact(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(ArtifactError, match="unsupported artifact format_version 99"):
        open_artifact(tmp_path)


@pytest.mark.parametrize("name", ["/etc/passwd", "../elsewhere/user_ids.json", "sub/../../x.json"])
def test_manifest_file_names_stay_inside_the_artifact(tmp_path, name):
    _write(tmp_path / "a")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    manifest["files"]["user_ids"] = name
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="outside the artifact"):
        _ = open_artifact(tmp_path / "a").user_ids
