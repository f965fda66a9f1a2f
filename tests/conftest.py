"""Shared fixtures: a small synthetic dataset that collaborative models can learn."""

from __future__ import annotations

import pytest

from training.data.dataset import Dataset
from training.data.sources import DataSpec, open_dataset


@pytest.fixture(scope="session")
def small_dataset() -> Dataset:
    # ~1,500 users x 800 items, leave-one-out by time with a validation item per user.
    return open_dataset(DataSpec(path="synthetic", synthetic_users=1_500, synthetic_items=800, seed=7))
