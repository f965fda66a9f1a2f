"""A model trained with a recent-item weight: the embedding service sends each user's vector with
the user's most recent item blended in (core/recent_item.py). A trained user with nothing new gets
exactly the vector retrieval's precomputed candidates were ranked by (so they still answer); a fresh
interaction makes its item the recent one."""

from __future__ import annotations

import numpy as np
import pytest

from core.artifact import SeenItems, open_artifact, write_artifact
from core.recent_item import NO_ITEM, blend_recent_item
from services.embedding.foldin import fold_in
from services.embedding.store import EmbeddingModel
from services.retrieval.main import load_index
from training.candidates import precompute_candidates

N_USERS, N_ITEMS, DIM, WEIGHT = 40, 120, 16, 0.6


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    rng = np.random.default_rng(11)
    users = rng.standard_normal((N_USERS, DIM), dtype=np.float32)
    items = rng.standard_normal((N_ITEMS, DIM), dtype=np.float32)
    pairs = [(u, i) for u in range(N_USERS - 1) for i in rng.choice(N_ITEMS, size=8, replace=False)]
    seen = SeenItems.from_pairs(np.array([u for u, _ in pairs]), np.array([i for _, i in pairs]), N_USERS,
                                np.ones(N_ITEMS))
    recent = np.array([seen.of(u)[3] for u in range(N_USERS - 1)] + [NO_ITEM])  # the last user has no items
    queries = blend_recent_item(users, items, recent, WEIGHT)
    out = tmp_path_factory.mktemp("recent")
    write_artifact(out, model_type="lightgcn", user_ids=[f"U{u}" for u in range(N_USERS)],
                   item_ids=[f"P{i}" for i in range(N_ITEMS)], seen=seen, save_weights=lambda p: p.write_bytes(b""),
                   hyperparameters={"embedding_dim": DIM, "recent_item_weight": WEIGHT}, training={}, dataset={},
                   metrics={}, embeddings=(users, items), candidates=precompute_candidates(queries, items, seen, 32),
                   recent_items=recent)
    return out


def test_a_trained_user_gets_the_vector_its_precomputed_candidates_were_ranked_by(artifact):
    model = EmbeddingModel.from_artifact(artifact)
    stored = open_artifact(artifact)
    index, _ = load_index(artifact)
    for user in range(N_USERS):
        state = model.user_vector(f"U{user}", [])
        assert not state.folded_in and np.array_equal(state.vector, stored.query_vectors()[user])
        hits = index.precomputed.hits(f"U{user}", state.vector, 10, state.seen, None)
        assert hits is not None  # retrieval answers from the row: the vectors match to the bit
    plain = stored.embeddings()[0]
    assert not np.allclose(stored.query_vectors()[:-1], plain[:-1])
    assert np.array_equal(stored.query_vectors()[-1], plain[-1])  # no recent item: the plain vector


def test_a_fresh_item_becomes_the_recent_one(artifact):
    model = EmbeddingModel.from_artifact(artifact)
    users, items = open_artifact(artifact).embeddings()
    trained = model.training_items(0)
    new = [i for i in range(N_ITEMS) if i not in set(trained.tolist())][:2]

    state = model.user_vector("U0", new)  # two new items, new[1] the newest
    folded = fold_in(items, model.item_degree, np.array(new), trained=users[0], trained_degree=len(trained))
    assert state.folded_in and np.array_equal(state.vector, blend_recent_item(folded, items, np.int64(new[1]), WEIGHT))

    # touching the training data's own most recent item again changes nothing
    again = model.user_vector("U0", [int(model.recent_items[0])])
    assert not again.folded_in and np.array_equal(again.vector, model.query_vectors[0])

    # touching an older training item makes it the recent one, over the same trained vector
    older = int(trained[0])
    touched = model.user_vector("U0", [older])
    assert touched.folded_in
    assert np.array_equal(touched.vector, blend_recent_item(users[0], items, np.int64(older), WEIGHT))


def test_a_cold_user_is_folded_in_with_its_newest_item(artifact):
    model = EmbeddingModel.from_artifact(artifact)
    items = open_artifact(artifact).embeddings()[1]
    state = model.user_vector("never-seen", [5, 9])
    folded = fold_in(items, model.item_degree, np.array([5, 9]))
    assert state.folded_in and np.array_equal(state.vector, blend_recent_item(folded, items, np.int64(9), WEIGHT))
