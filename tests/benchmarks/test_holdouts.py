"""The hold-outs the LightGCN paper benchmark evaluates on instead of test.txt."""

from __future__ import annotations

import numpy as np

from benchmarks.lightgcn_paper import hold_out_line_tails
from training.data.dataset import Dataset
from training.data.types import Interactions


def _dataset(users: list[int], items: list[int]) -> Dataset:
    """Training pairs in file order."""
    u, i = np.array(users, dtype=np.int64), np.array(items, dtype=np.int64)
    return Dataset(user_ids=np.array([str(x) for x in range(u.max() + 1)]),
                   item_ids=np.array([str(x) for x in range(i.max() + 1)]),
                   train=Interactions(u, i), valid=None, test=Interactions(u[:0], i[:0]))


def _lines(lines: dict[int, list[int]]) -> Dataset:
    return _dataset([u for u, row in lines.items() for _ in row], [i for row in lines.values() for i in row])


def test_each_line_loses_its_last_items_in_line_order():
    # user 0's line is not sorted: the tail is by position in the line, not by item id
    data = _lines({0: [9, 3, 7, 1, 5, 8, 2, 6, 4, 0], 1: [4, 2, 6], 2: [1]})
    split = hold_out_line_tails(data, 0.2)
    held = {u: split.test.items[split.test.users == u].tolist() for u in range(3)}
    kept = {u: split.train.items[split.train.users == u].tolist() for u in range(3)}
    assert held == {0: [4, 0], 1: [6], 2: []}  # ceil(0.2 x 3) = 1; a one-item line keeps its item
    assert kept == {0: [9, 3, 7, 1, 5, 8, 2, 6], 1: [4, 2], 2: [1]}
    assert split.valid is None


def test_lines_interleaved_in_the_file_keep_their_own_order():
    data = _dataset([1, 0, 1, 0, 1, 0, 1, 0], [10, 20, 11, 21, 12, 22, 13, 23])
    split = hold_out_line_tails(data, 0.5)
    assert sorted(zip(split.test.users.tolist(), split.test.items.tolist())) == [(0, 22), (0, 23), (1, 12), (1, 13)]


def test_recent_item_rows_match_a_model_trained_with_that_weight(small_dataset):
    """The benchmark's extra rows re-rank one trained model with the recent item blended in; the
    blend does not touch training, so they equal the test metrics of a run configured with the weight."""
    from benchmarks.lightgcn_paper import with_recent_items
    from training.config import TrainConfig
    from training.trainer import train

    def run(weight: float):  # no validation pass (eval_every beyond the epochs): the last epoch is the model
        config = TrainConfig(model="lightgcn", epochs=2, batch_size=1024, lr=0.01, ks=(20,), eval_every=100,
                             device="cpu", recent_item_weight=weight)
        return train(small_dataset, config, progress=False, echo=lambda s: None)

    plain = run(0.0)
    rows = with_recent_items(plain.model, small_dataset, {"recall@20": plain.test_metrics["recall@20"]}, (0.5,))
    configured = run(0.5).test_metrics
    assert rows[0]["recent_item_weight"] == 0.5
    assert np.isclose(rows[0]["recall@20"], configured["recall@20"], atol=1e-9)
    assert np.isclose(rows[0]["ndcg@20"], configured["ndcg@20"], atol=1e-9)
    assert plain.model.recent_item_weight == 0.0  # the model is left ranking as trained
