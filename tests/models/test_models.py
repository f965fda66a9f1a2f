"""Every model trains briefly on synthetic data and beats popularity; model internals are right."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.lightgcn import LightGCN, normalized_adjacency
from models.ncf import GMF, MLP, NeuMF
from training.config import TrainConfig
from training.trainer import train


def _quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def popularity(small_dataset):
    full = train(small_dataset, TrainConfig(model="pop", protocol="full"), progress=False, echo=_quiet)
    sampled = train(small_dataset, TrainConfig(model="pop", protocol="sampled"), progress=False, echo=_quiet)
    return {"full": full.test_metrics, "sampled": sampled.test_metrics}


@pytest.mark.parametrize("model,overrides", [
    ("gmf", {"epochs": 3, "batch_size": 512, "lr": 0.005}),
    ("mlp", {"epochs": 10, "batch_size": 256, "lr": 0.003}),
    ("neumf", {"epochs": 3, "batch_size": 512, "lr": 0.005}),
    ("mf", {"epochs": 3, "batch_size": 512, "lr": 0.005}),
])
def test_ncf_family_beats_popularity_sampled(small_dataset, popularity, model, overrides):
    result = train(small_dataset, TrainConfig(model=model, protocol="sampled", **overrides), progress=False,
                   echo=_quiet)
    assert result.test_metrics["ndcg@10"] > popularity["sampled"]["ndcg@10"] * 1.2, result.test_metrics
    assert result.test_metrics["hr@10"] > popularity["sampled"]["hr@10"], result.test_metrics
    assert len(result.history) == overrides["epochs"]
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_lightgcn_beats_popularity_full_ranking(small_dataset, popularity):
    config = TrainConfig(model="lightgcn", epochs=15, batch_size=1024, lr=0.01, eval_every=5)
    result = train(small_dataset, config, progress=False, echo=_quiet)
    assert result.test_metrics["recall@20"] > popularity["full"]["recall@20"] * 1.5, result.test_metrics
    assert result.test_metrics["coverage@20"] > popularity["full"]["coverage@20"]


def test_popularity_ranks_by_training_counts(small_dataset, popularity):
    counts = np.bincount(small_dataset.train.items, minlength=small_dataset.n_items)
    assert popularity["full"]["coverage@20"] <= 40 / small_dataset.n_items  # everyone sees ~the same list
    assert popularity["sampled"]["hr@10"] > 0.1  # test items are popular-skewed on this data
    assert counts.sum() == len(small_dataset.train)


def _low_rank_ratings(n_users: int = 400, n_items: int = 200, per_user: int = 40, seed: int = 0):
    """Ratings 1..5 from a rank-3 taste model plus noise, dense enough for a per-user split."""
    from core.interactions import InteractionLog
    from training.data.dataset import SplitSpec, build_dataset
    from training.data.types import LoadedData

    rng = np.random.default_rng(seed)
    user_f, item_f = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    raw = 3 + (user_f[users] * item_f[items]).sum(1) + rng.normal(scale=0.3, size=len(users))
    ratings = np.clip(np.round(raw), 1, 5).astype(np.float32)
    log = InteractionLog(np.char.add("u", users.astype(str)), np.char.add("i", items.astype(str)), ratings,
                         np.arange(len(users), dtype=np.int64))
    return build_dataset(LoadedData(log, "low-rank"), SplitSpec(method="random", seed=seed))


@pytest.mark.parametrize("model", ["mf", "neumf"])
def test_explicit_feedback_beats_global_mean(model):
    data = _low_rank_ratings()
    mean_rating = float(np.mean(data.train.ratings))
    baseline_rmse = float(np.sqrt(np.mean((data.test.ratings - mean_rating) ** 2)))
    config = TrainConfig(model=model, feedback="explicit", epochs=30, batch_size=256, lr=0.01, patience=30)
    result = train(data, config, progress=False, echo=_quiet)
    assert result.test_metrics["rmse"] < 0.8 * baseline_rmse, (result.test_metrics, baseline_rmse)
    assert 0 < result.test_metrics["mae"] <= result.test_metrics["rmse"]


def test_neumf_pretraining_copies_branches():
    gmf, mlp = GMF(10, 20, 8), MLP(10, 20, (16, 8))
    neumf = NeuMF(10, 20, 8, (16, 8))
    neumf.load_pretrained(gmf, mlp, alpha=0.5)
    users, items = torch.arange(10), torch.arange(10)
    expected = 0.5 * gmf.score_pairs(users, items) + 0.5 * mlp.score_pairs(users, items)
    assert torch.allclose(neumf.score_pairs(users, items), expected, atol=1e-6)
    with pytest.raises(ValueError):
        neumf.load_pretrained(GMF(10, 20, 4), mlp)


def test_neumf_with_pretraining_trains(small_dataset):
    config = TrainConfig(model="neumf", pretrain=True, epochs=1, batch_size=1024, protocol="sampled")
    result = train(small_dataset, config, progress=False, echo=_quiet)
    assert result.test_metrics["hr@10"] > 0.3


def test_gmf_score_all_matches_pairs():
    model = GMF(5, 7, 4)
    users = torch.tensor([0, 3])
    full = model.score_all(users)
    pairs = model.score_pairs(users.repeat_interleave(7), torch.arange(7).repeat(2)).view(2, 7)
    assert torch.allclose(full, pairs, atol=1e-6)


def test_normalized_adjacency_by_hand():
    # users 0,1; items 0,1; edges u0-i0, u0-i1, u1-i1. Degrees: u0=2, u1=1, i0=1, i1=2.
    adj = normalized_adjacency(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 2).toarray()
    # entry (u0, i1) = 1/sqrt(2*2) = 0.5; (u1, i1) = 1/sqrt(1*2); (u0, i0) = 1/sqrt(2*1)
    assert adj[0, 3] == pytest.approx(0.5)
    assert adj[1, 3] == pytest.approx(2 ** -0.5)
    assert adj[0, 2] == pytest.approx(2 ** -0.5)
    assert np.allclose(adj, adj.T) and adj[0, 1] == 0 and adj[2, 3] == 0


@pytest.mark.parametrize("reorder", [False, True])
def test_lightgcn_propagation_and_gradient_match_dense_reference(reorder):
    torch.manual_seed(0)
    users, items = np.array([0, 0, 1, 2, 2, 3]), np.array([0, 1, 1, 2, 0, 3])
    model = LightGCN(4, 4, embedding_dim=4, n_layers=2)
    initial = model.embedding.weight.detach().clone()
    model.set_graph(users, items, reorder=reorder)
    position = model.node_position
    # every node keeps its own initial embedding whatever row it is stored in
    assert torch.equal(model.embedding.weight.detach()[position], initial)
    dense = torch.from_numpy(normalized_adjacency(users, items, 4, 4).toarray()).double()
    e0 = initial.double().requires_grad_(True)
    reference = (e0 + dense @ e0 + dense @ (dense @ e0)) / 3
    user_emb, item_emb = model.propagate()
    assert torch.allclose(torch.cat([user_emb, item_emb]).double(), reference, atol=1e-6)
    (user_emb.sum() * 2 + item_emb.pow(2).sum()).backward()
    (reference[:4].sum() * 2 + reference[4:].pow(2).sum()).backward()
    assert torch.allclose(model.embedding.weight.grad[position].double(), e0.grad, atol=1e-5)


def test_lightgcn_training_scores_match_eval_scores():
    torch.manual_seed(0)
    model = LightGCN(4, 4, embedding_dim=4, n_layers=2).set_graph(np.array([0, 1, 2, 3, 3]), np.array([1, 0, 3, 2, 1]))
    users, pos, neg = torch.tensor([0, 3]), torch.tensor([1, 2]), torch.tensor([2, 0])
    train_pos, train_neg = model.score_triplets(users, pos, neg)
    model.eval()
    model.prepare_for_eval()
    assert torch.allclose(train_pos, model.score_pairs(users, pos), atol=1e-6)
    assert torch.allclose(train_neg, model.score_candidates(users, neg[:, None]).squeeze(1), atol=1e-6)
    l2 = model.l2_terms(users, pos)
    weights = model.embedding.weight[model.node_position]
    assert torch.isclose(l2, weights[users].pow(2).sum() + weights[pos + 4].pow(2).sum())


def test_svd_initialisation_starts_from_the_graphs_singular_vectors(small_dataset, popularity):
    """Each node's row is its singular vectors times sqrt(singular value) and the scale, wherever the
    reordering put it; untrained, the model already ranks better than popularity and far better than
    from a random start."""
    train_part = small_dataset.train
    model = LightGCN(small_dataset.n_users, small_dataset.n_items, embedding_dim=16, n_layers=3)
    model.set_graph(train_part.users, train_part.items)
    model.init_from_svd(train_part.users, train_part.items, scale=2.0)
    adjacency = normalized_adjacency(train_part.users, train_part.items, small_dataset.n_users,
                                     small_dataset.n_items).toarray()
    interactions = adjacency[: small_dataset.n_users, small_dataset.n_users:]  # D_u^-1/2 R D_i^-1/2
    rows = model.embedding.weight[model.node_position].detach().numpy().astype(np.float64)
    users, items = rows[: small_dataset.n_users], rows[small_dataset.n_users:]
    # U sqrt(S) and V sqrt(S) times 2: users^T-side products reconstruct 4 x the rank-16 approximation
    left, singular, right = np.linalg.svd(interactions, full_matrices=False)
    best = (left[:, :16] * singular[:16]) @ right[:16]
    np.testing.assert_allclose(users @ items.T, 4 * best, atol=1e-4)
    configs = {s: TrainConfig(model="lightgcn", epochs=0, protocol="full", svd_init_scale=s) for s in (0, 2)}
    recall = {scale: train(small_dataset, config, progress=False, echo=_quiet).test_metrics["recall@20"]
              for scale, config in configs.items()}
    assert recall[2] > popularity["full"]["recall@20"] and recall[2] > 3 * recall[0], recall


def test_softmax_loss_is_the_sampled_softmax_over_cosines_with_own_positive_masked():
    from training.data.types import Interactions
    from training.tasks import SoftmaxTask

    torch.manual_seed(0)
    users, items = np.array([0, 1, 2, 3, 3]), np.array([1, 0, 3, 2, 1])
    model = LightGCN(4, 4, embedding_dim=4, n_layers=2).set_graph(users, items)
    task = SoftmaxTask(Interactions(users=users, items=items), n_items=4, batch_size=8, num_negatives=3,
                       temperature=0.5, reg=0.0)
    batch_users, positives, negatives = torch.tensor([0, 3]), torch.tensor([1, 2]), torch.tensor([1, 3, 0])
    loss = task.loss(model, (batch_users, positives, negatives))
    user_emb, item_emb = (torch.nn.functional.normalize(e, dim=-1) for e in model.propagate())
    expected = []
    for user, positive in zip(batch_users.tolist(), positives.tolist()):
        others = [n for n in negatives.tolist() if n != positive]  # user 0's own positive 1 is not a negative
        logits = torch.stack([user_emb[user] @ item_emb[i] / 0.5 for i in [positive, *others]])
        expected.append(torch.logsumexp(logits, 0) - logits[0])
    assert torch.isclose(loss, torch.stack(expected).mean(), atol=1e-5)
    loss.backward()
    assert model.embedding.weight.grad is not None and model.embedding.weight.grad.abs().sum() > 0


def test_lightgcn_trained_with_softmax_ranks_by_cosine_and_ships_unit_vectors(small_dataset, popularity):
    config = TrainConfig(model="lightgcn", loss="softmax", epochs=10, batch_size=1024, lr=0.01, eval_every=5,
                         num_negatives=256)
    result = train(small_dataset, config, progress=False, echo=_quiet)
    assert result.test_metrics["recall@20"] > popularity["full"]["recall@20"] * 1.5, result.test_metrics
    model = result.model
    assert model.hyperparameters() == {"embedding_dim": 64, "n_layers": 3, "cosine": True}
    user_vectors, item_vectors = model.final_embeddings()
    np.testing.assert_allclose(np.linalg.norm(item_vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(user_vectors, axis=1), 1.0, atol=1e-5)
    # rebuilt from its artifact's hyperparameters, the module scores alike
    from models.registry import build_model

    rebuilt = build_model("lightgcn", model.n_users, model.n_items, **model.hyperparameters())
    rebuilt.load_state_dict(model.state_dict())
    rebuilt.set_graph(small_dataset.train.users, small_dataset.train.items)
    users = torch.arange(5)
    model.eval()
    rebuilt.eval()
    assert torch.allclose(rebuilt.score_all(users), model.score_all(users), atol=1e-5)


@pytest.mark.parametrize("overrides,message", [
    ({"model": "neumf", "loss": "softmax"}, "the softmax loss trains lightgcn"),
    ({"model": "lightgcn", "loss": "softmax", "temperature": 0.0}, "temperature > 0"),
    ({"model": "lightgcn", "loss": "hinge"}, "loss must be one of bce, bpr, softmax, mse"),
])
def test_softmax_loss_settings_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**overrides).resolved()


def _assert_same_loss_and_gradient(model: LightGCN, loss: torch.Tensor, by_hand: torch.Tensor) -> None:
    assert torch.isclose(loss, by_hand, atol=1e-6)
    loss.backward()
    grad = model.embedding.weight.grad.clone()
    model.zero_grad()
    by_hand.backward()
    assert torch.allclose(grad, model.embedding.weight.grad, atol=1e-6)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_hard_negatives_train_on_the_candidate_of_their_rank_and_only_it(rank):
    from training.data.types import Interactions
    from training.tasks import PairwiseTask

    torch.manual_seed(0)
    users, items = np.array([0, 1, 2, 3, 3]), np.array([1, 0, 3, 2, 1])
    model = LightGCN(4, 6, embedding_dim=4, n_layers=2).set_graph(users, items)
    task = PairwiseTask(Interactions(users=users, items=items), n_items=6, batch_size=8, reg=0.0, hard_negatives=3,
                        hard_negative_rank=rank)
    batch_users, positives = torch.tensor([0, 3]), torch.tensor([1, 2])
    candidates = torch.tensor([[0, 4, 5], [3, 4, 5]])
    loss = task.loss(model, (batch_users, positives, candidates))
    user_emb, item_emb = model.propagate()
    expected = []
    for user, positive, row in zip(batch_users.tolist(), positives.tolist(), candidates.tolist()):
        chosen = sorted(row, key=lambda item: -float((user_emb[user] @ item_emb[item]).detach()))[rank - 1]
        expected.append(torch.nn.functional.softplus(user_emb[user] @ (item_emb[chosen] - item_emb[positive])))
    # the candidates that lost add nothing to the gradient: it equals that of the by-hand loss,
    # which holds the chosen items alone
    _assert_same_loss_and_gradient(model, loss, torch.stack(expected).mean())


def test_mixed_negatives_are_built_layer_by_layer_as_mixgcf_builds_them():
    from training.data.types import Interactions
    from training.tasks import PairwiseTask

    torch.manual_seed(0)
    users, items = np.array([0, 1, 2, 3, 3]), np.array([1, 0, 3, 2, 1])
    model = LightGCN(4, 6, embedding_dim=4, n_layers=2).set_graph(users, items)
    task = PairwiseTask(Interactions(users=users, items=items), n_items=6, batch_size=8, reg=0.0, hard_negatives=3,
                        hard_negative_mixing=True)
    task.generator.manual_seed(5)
    batch_users, positives = torch.tensor([0, 3]), torch.tensor([1, 2])
    candidates = torch.tensor([[0, 4, 5], [3, 4, 5]])
    loss = task.loss(model, (batch_users, positives, candidates))

    # by hand: each layer's table in node order (users, then items), A^k E0
    layers = [model.embedding.weight]
    for _ in range(2):
        layers.append(model.adjacency @ layers[-1])
    layers = [layer[model.node_position] for layer in layers]
    share = torch.rand((3, 2, 1), generator=torch.Generator().manual_seed(5))  # layers x pairs
    expected = []
    for b, (user, positive, row) in enumerate(zip(batch_users.tolist(), positives.tolist(), candidates.tolist())):
        user_vector = sum(layer[user] for layer in layers) / 3
        parts = []
        for k, layer in enumerate(layers):
            # the candidate the user's final vector scores highest at this layer, mixed with the positive
            chosen = max(row, key=lambda item: float(user_vector.detach() @ layer[4 + item].detach()))
            parts.append(share[k, b] * layer[4 + positive] + (1 - share[k, b]) * layer[4 + chosen])
        negative = sum(parts) / 3
        positive_vector = sum(layer[4 + positive] for layer in layers) / 3
        expected.append(torch.nn.functional.softplus(user_vector @ (negative - positive_vector)))
    _assert_same_loss_and_gradient(model, loss, torch.stack(expected).mean())


def test_lightgcn_trained_with_mixed_negatives_beats_popularity(small_dataset, popularity):
    config = TrainConfig(model="lightgcn", epochs=15, batch_size=1024, lr=0.01, eval_every=5, hard_negatives=8,
                         hard_negative_mixing=True)
    result = train(small_dataset, config, progress=False, echo=_quiet)
    assert result.test_metrics["recall@20"] > popularity["full"]["recall@20"] * 1.5, result.test_metrics


def test_hard_negatives_are_drawn_per_pair_among_unseen_items():
    from training.data.types import Interactions
    from training.tasks import PairwiseTask

    users, items = np.repeat(np.arange(20), 5), np.tile(np.arange(5), 20)  # everyone owns items 0..4
    task = PairwiseTask(Interactions(users=users, items=items), n_items=50, batch_size=32, hard_negatives=7)
    batches = list(task.batches(0))
    assert sum(len(b[0]) for b in batches) == len(users)
    for _, _, candidates in batches:
        assert candidates.shape[1] == 7 and bool((candidates >= 5).all())


def test_lightgcn_trained_with_hard_negatives_beats_popularity(small_dataset, popularity):
    config = TrainConfig(model="lightgcn", epochs=15, batch_size=1024, lr=0.01, eval_every=5, hard_negatives=8)
    result = train(small_dataset, config, progress=False, echo=_quiet)
    assert result.test_metrics["recall@20"] > popularity["full"]["recall@20"] * 1.5, result.test_metrics


def test_hard_negatives_for_a_share_of_the_training_then_the_uniform_draw(small_dataset):
    config = TrainConfig(model="lightgcn", epochs=4, batch_size=1024, lr=0.01, eval_every=100, hard_negatives=8,
                         hard_negatives_share=0.5)
    said: list[str] = []
    result = train(small_dataset, config, progress=False, echo=said.append)
    assert len(result.history) == 4
    assert [line for line in said if "uniform" in line] == ["the uniform negative draw from epoch 3 on"]


@pytest.mark.parametrize("overrides,message", [
    ({"model": "lightgcn", "hard_negatives": 4, "hard_negatives_share": 0.0}, r"share of the training .* \(0, 1\]"),
    ({"model": "lightgcn", "hard_negatives": 4, "hard_negatives_share": 1.5}, "got 1.5"),
    ({"model": "lightgcn", "hard_negatives": 0}, "hard negatives count the candidates drawn per pair"),
    ({"model": "neumf", "hard_negatives": 4}, "hard negatives pick BPR's negative for lightgcn"),
    ({"model": "lightgcn", "loss": "softmax", "hard_negatives": 4}, "hard negatives pick BPR's negative"),
    ({"model": "lightgcn", "hard_negatives": 4, "hard_negative_rank": 5}, r"one of the 4 candidates by score: 1\.\.4"),
    ({"model": "lightgcn", "hard_negatives": 4, "hard_negative_rank": 0}, "got 0"),
    ({"model": "lightgcn", "hard_negative_mixing": True}, r"at least 2 candidates per pair .* got 1 and rank 1"),
    ({"model": "lightgcn", "hard_negatives": 4, "hard_negative_rank": 2, "hard_negative_mixing": True}, "rank 2"),
])
def test_hard_negative_settings_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**overrides).resolved()
