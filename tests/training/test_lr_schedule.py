"""The per-epoch learning rate: constant by default, cosine annealed over the time budget or the epochs."""

from __future__ import annotations

import math

import pytest

from training.config import TrainConfig
from training.lr_schedule import epoch_learning_rate


def _config(**overrides: object) -> TrainConfig:
    return TrainConfig(model="lightgcn", lr=0.01, epochs=10, **overrides).resolved()


def test_constant_keeps_the_configured_rate_whatever_the_epoch_or_time():
    config = _config()
    assert config.lr_schedule == "constant"
    assert {epoch_learning_rate(config, epoch, seconds) for epoch, seconds in ((1, 0.0), (10, 500.0))} == {0.01}


def test_cosine_over_epochs_starts_at_the_rate_halves_midway_and_never_goes_negative():
    config = _config(lr_schedule="cosine")
    rates = [epoch_learning_rate(config, epoch, 0.0) for epoch in range(1, 11)]
    assert rates[0] == pytest.approx(0.01)
    assert epoch_learning_rate(config, 6, 0.0) == pytest.approx(0.005)  # progress 5/10
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert rates[-1] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 0.9)))
    assert epoch_learning_rate(config, 50, 0.0) == pytest.approx(0.0)  # past the end: clamped, not rising again


def test_cosine_with_a_time_budget_follows_the_seconds_spent_not_the_epoch_count():
    config = _config(lr_schedule="cosine", time_budget_s=100.0)
    assert epoch_learning_rate(config, 1, 0.0) == pytest.approx(0.01)
    assert epoch_learning_rate(config, 2, 50.0) == epoch_learning_rate(config, 9, 50.0) == pytest.approx(0.005)
    assert epoch_learning_rate(config, 3, 75.0) == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 0.75)))
    assert epoch_learning_rate(config, 4, 250.0) == pytest.approx(0.0)


def test_an_unknown_schedule_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="learning-rate schedule must be one of constant, cosine, got 'linear'"):
        _config(lr_schedule="linear")
