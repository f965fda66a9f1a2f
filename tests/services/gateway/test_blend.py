"""Reciprocal-rank fusion, checked by hand."""

from __future__ import annotations

import math

import pytest

from services.gateway.blend import reciprocal_rank_fusion


def test_fusion_by_hand():
    # retrieval order a, b, c; NCF order c, a, b (scores 0.5, 0.1, 0.9)
    fused = reciprocal_rank_fusion(["a", "b", "c"], [0.5, 0.1, 0.9], weight=0.5, k=3)
    # a: .5/60 + .5/61; b: .5/61 + .5/62; c: .5/62 + .5/60
    expected = {"a": 0.5 / 60 + 0.5 / 61, "b": 0.5 / 61 + 0.5 / 62, "c": 0.5 / 62 + 0.5 / 60}
    assert [item for item, _ in fused] == ["a", "c", "b"]
    for item, score in fused:
        assert score == pytest.approx(expected[item])


def test_unscored_items_keep_their_retrieval_term_and_k_truncates():
    fused = reciprocal_rank_fusion(["a", "b"], [math.nan, 1.0], weight=1.0, k=1)
    assert fused == [("a", pytest.approx(1 / 60))]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion(["a"], [1.0, 2.0], 0.5, 1)
