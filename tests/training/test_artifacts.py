"""Artifact round trip: what load_model returns answers like the trained model, in original ids."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.artifact import open_artifact
from core.errors import ArtifactError, UnknownIdError
from core.recent_item import blend_recent_item, last_items
from models.loaded import load_model
from training.artifacts import save_artifact
from training.config import TrainConfig
from training.trainer import train


@pytest.fixture(scope="module", params=["neumf", "lightgcn", "lightgcn-recent"])
def trained(request, small_dataset, tmp_path_factory):
    name = request.param.removesuffix("-recent")
    recent_weight = 0.5 if request.param.endswith("-recent") else 0.0
    config = TrainConfig(model=name, epochs=2, batch_size=1024, lr=0.005, recent_item_weight=recent_weight)
    result = train(small_dataset, config, progress=False, echo=lambda s: None)
    out = tmp_path_factory.mktemp(request.param)
    save_artifact(out, result.model, small_dataset, {"config": result.config.to_dict()}, result.test_metrics,
                  version="v-test")
    return name, result.model, out


def test_manifest_names_everything(trained, small_dataset):
    name, _, path = trained
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model_type"] == name and manifest["version"] == "v-test"
    assert manifest["dataset"]["fingerprint"] == small_dataset.fingerprint
    assert manifest["n_users"] == small_dataset.n_users and manifest["n_items"] == small_dataset.n_items
    assert set(manifest["id_maps"]) == {"users", "items"}
    assert "hr@10" in manifest["metrics"] or "recall@20" in manifest["metrics"]
    for filename in manifest["files"].values():
        assert (path / filename).exists(), filename
    if name == "lightgcn":
        embeddings = np.load(path / "embeddings.npz")
        assert embeddings["user"].shape == (small_dataset.n_users, 64)
        assert embeddings["item"].shape == (small_dataset.n_items, 64)


def test_loaded_scores_equal_trained_scores(trained, small_dataset):
    _, model, path = trained
    loaded = load_model(path)
    user_id = str(small_dataset.user_ids[5])
    item_ids = [str(i) for i in small_dataset.item_ids[:50]]
    model.cpu().eval()
    model.prepare_for_eval()
    with torch.no_grad():
        expected = model.score_pairs(torch.full((50,), 5), torch.arange(50)).numpy()
    got = np.array([score for _, score in loaded.score(user_id, item_ids)])
    assert np.allclose(got, expected, atol=1e-4)


def test_recent_item_travels_with_the_artifact(trained, small_dataset):
    """A LightGCN trained with a recent-item weight stores each user's most recent training item and
    the weight; its query vectors (what load_model, retrieval and the embedding service rank by) are
    the user vectors with that item blended in, and the precomputed candidates are ranked by them."""
    name, model, path = trained
    stored = open_artifact(path)
    weight = getattr(model, "recent_item_weight", 0.0)
    if name != "lightgcn" or not weight:
        assert stored.recent_item_weight == 0.0 and (not stored.has("embeddings") or stored.recent_items() is None)
        return
    users, items = stored.embeddings()
    train_part = small_dataset.train
    expected = last_items(train_part.users, train_part.items, small_dataset.n_users, train_part.timestamps)
    assert stored.recent_item_weight == weight and np.array_equal(stored.recent_items(), expected)
    queries = stored.query_vectors()
    assert np.array_equal(queries, blend_recent_item(users, items, expected, weight))
    assert not np.allclose(queries, users)  # the blend changed the ranking vectors
    rows = stored.candidates()
    for user in range(0, small_dataset.n_users, 37):
        scores = items @ queries[user]
        scores[stored.seen.of(user)] = -np.inf
        assert np.isclose(scores[rows[user, 0]], scores.max(), atol=1e-5)


def test_predict_excludes_seen_items_and_is_sorted(trained, small_dataset):
    _, _, path = trained
    loaded = load_model(path)
    user = 11
    user_id = str(small_dataset.user_ids[user])
    seen = set(small_dataset.item_ids[small_dataset.train.items[small_dataset.train.users == user]].tolist())
    recommendations = loaded.predict(user_id, 20)
    assert len(recommendations) == 20
    assert not seen & {item for item, _ in recommendations}
    scores = [score for _, score in recommendations]
    assert scores == sorted(scores, reverse=True)
    all_ids = set(small_dataset.item_ids.tolist())
    assert {item for item, _ in recommendations} <= all_ids
    with_seen = {item for item, _ in loaded.predict(user_id, small_dataset.n_items, exclude_seen=False)}
    assert seen <= with_seen


def test_unknown_ids_raise_clear_errors(trained):
    _, _, path = trained
    loaded = load_model(path)
    with pytest.raises(UnknownIdError, match="unknown user 'nobody'"):
        loaded.predict("nobody", 5)
    with pytest.raises(UnknownIdError, match="unknown item"):
        loaded.score(loaded.user_ids[0], ["no-such-item"])
    with pytest.raises(ValueError, match="positive"):
        loaded.predict(loaded.user_ids[0], 0)


def test_catalogue_travels_with_the_artifact(trained, small_dataset):
    _, _, path = trained
    catalogue = load_model(path).catalogue()
    some_item = str(small_dataset.item_ids[0])
    assert catalogue[some_item]["title"] and catalogue[some_item]["price"] > 0


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(ArtifactError, match="not a model artifact"):
        load_model(tmp_path)
