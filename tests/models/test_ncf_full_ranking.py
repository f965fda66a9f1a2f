"""MLP and NeuMF score every item with the first layer split and items chunked: the same scores as
running each (user, item) pair through the network, whatever the chunk size."""

from __future__ import annotations

import pytest
import torch

from models import ncf
from models.base import Recommender


def _model(kind: str) -> Recommender:
    torch.manual_seed(0)
    model = ncf.MLP(50, 230, (32, 16, 8), dropout=0.3) if kind == "mlp" else ncf.NeuMF(50, 230, 8, (32, 16, 8), 0.3)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.5)
    return model.eval()


@pytest.mark.parametrize("kind", ["mlp", "neumf"])
@pytest.mark.parametrize("chunk_elements", [1, 16 * 37, 1 << 24])  # one item, uneven chunks, one chunk
def test_all_items_scored_like_each_pair(kind, chunk_elements, monkeypatch):
    monkeypatch.setattr(ncf, "CHUNK_ELEMENTS", chunk_elements)
    model = _model(kind)
    users = torch.tensor([0, 3, 49, 17])
    with torch.no_grad():
        fast, pairwise = model.score_all(users), Recommender.score_all(model, users)
    assert fast.shape == (4, 230)
    torch.testing.assert_close(fast, pairwise, atol=1e-5, rtol=1e-5)
    assert torch.equal(fast.topk(20).indices, pairwise.topk(20).indices)
