"""A hot reload swaps in a model whose item indices mean other items (another catalogue, another
training run). Fresh interactions recorded under the old model must keep naming the same items under
the new one: before, they were kept as the old model's indices, so after a switch to a smaller model a
user's recorded item became "index out of bounds" (INTERNAL) or silently another product."""

from __future__ import annotations

import numpy as np
import pytest

from services.embedding.foldin import fold_in
from services.embedding.store import EmbeddingModel
from services.embedding.users import UserEmbeddings


def _model(version: str, item_ids: list[str], seed: int) -> EmbeddingModel:
    rng = np.random.default_rng(seed)
    items = rng.normal(size=(len(item_ids), 4)).astype(np.float32)
    users = rng.normal(size=(1, 4)).astype(np.float32)
    return EmbeddingModel(version, {"trained-user": 0}, item_ids, {v: i for i, v in enumerate(item_ids)}, users,
                          items, np.ones(len(item_ids)), np.array([0, 1]), np.array([0]))


@pytest.fixture
def embeddings() -> UserEmbeddings:
    users = UserEmbeddings()
    users.load(_model("big", [f"P{i:07d}" for i in range(1000)], seed=1))
    return users


def test_fresh_items_keep_their_identity_across_a_reload(embeddings):
    embeddings.record("shopper", ["P0000900", "P0000150"])
    smaller = _model("small", ["P0000150", "P0000007", "P0000152"], seed=2)  # P0000900 is gone, 150 moved
    embeddings.load(smaller)
    model, user = embeddings.user_state("shopper")
    assert [model.item_ids[i] for i in user.seen] == ["P0000150"]  # not P0000152, no out-of-bounds index
    expected = fold_in(smaller.item_vectors, smaller.item_degree, np.array([smaller.item_index["P0000150"]]))
    np.testing.assert_allclose(user.vector, expected)
    assert user.folded_in


def test_items_the_new_model_lacks_are_remembered_for_a_later_one(embeddings):
    embeddings.record("shopper", ["P0000900"])
    embeddings.load(_model("small", ["P0000001"], seed=3))
    _, user = embeddings.user_state("shopper")
    assert user.vector is None and len(user.seen) == 0  # nothing this model can use: a cold user
    embeddings.load(_model("big-again", [f"P{i:07d}" for i in range(1000)], seed=4))
    model, user = embeddings.user_state("shopper")
    assert [model.item_ids[i] for i in user.seen] == ["P0000900"]
