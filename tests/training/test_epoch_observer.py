"""The trainer's epoch observer: benchmarks draw curves with it, so it must see every epoch and its
time must stay out of the run (budget, learning-rate schedule, reported training time)."""

from __future__ import annotations

import time

import pytest

from training import evaluation
from training.config import TrainConfig
from training.lr_schedule import epoch_learning_rate
from training.trainer import train

OBSERVER_PAUSE_S = 0.3


def test_the_observer_sees_every_epoch_off_the_clock(small_dataset):
    config = TrainConfig(model="lightgcn", epochs=3, batch_size=1024, lr=0.01, lr_schedule="cosine",
                         time_budget_s=600.0, eval_every=1)
    seen: list[tuple[int, float]] = []

    def observe(row, model):
        time.sleep(OBSERVER_PAUSE_S)  # an observer slower than an epoch must not eat the budget
        metrics = evaluation.full_ranking(model, small_dataset.test, [small_dataset.train, small_dataset.valid], [20])
        seen.append((int(row["epoch"]), row["epoch_seconds"]))
        return {"test_recall@20": metrics["recall@20"]}

    result = train(small_dataset, config, progress=False, echo=lambda s: None, observe=observe)

    assert [epoch for epoch, _ in seen] == [1, 2, 3]
    assert all(0 <= row["test_recall@20"] <= 1 and "valid_recall@20" in row for row in result.history)
    # the kept model is the best validation epoch's, and the observer saw that same model
    best_row = result.history[result.best_epoch - 1]
    assert best_row["test_recall@20"] == pytest.approx(result.test_metrics["recall@20"])
    assert result.timings["observer_seconds"] >= 3 * OBSERVER_PAUSE_S
    assert result.train_seconds == pytest.approx(sum(row["epoch_seconds"] for row in result.history))
    # the cosine schedule follows the seconds spent training and validating, never observing
    spent = result.history[0]["epoch_seconds"] + result.history[0]["eval_seconds"]
    assert result.history[1]["lr"] == pytest.approx(epoch_learning_rate(config.resolved(), 2, spent))


def test_without_an_observer_the_timings_have_no_observer_part(small_dataset):
    config = TrainConfig(model="lightgcn", epochs=1, batch_size=1024)
    result = train(small_dataset, config, progress=False, echo=lambda s: None)
    assert "observer_seconds" not in result.timings
