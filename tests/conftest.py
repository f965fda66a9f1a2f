"""Shared fixtures (a small synthetic dataset that collaborative models can learn, trained
artifacts) and the `integration` marker for every test that uses a real server."""

from __future__ import annotations

import pytest
from stack_fixtures import kafka_broker, kube_apiserver, pg_url, postgres_server, stack_root, topics  # noqa: F401

from training.data.dataset import Dataset
from training.data.sources import DataSpec, open_dataset


@pytest.fixture(scope="session")
def small_dataset() -> Dataset:
    # ~1,500 users x 800 items, leave-one-out by time with a validation item per user.
    return open_dataset(DataSpec(path="synthetic", synthetic_users=1_500, synthetic_items=800, seed=7))


# Serving tests need trained artifacts; training each model once per session keeps them fast.
SERVING_CONFIGS = {
    "lightgcn": {"model": "lightgcn", "epochs": 3, "batch_size": 1024, "lr": 0.01},
    "neumf": {"model": "neumf", "epochs": 1, "batch_size": 1024},
}


@pytest.fixture(scope="session")
def publish(small_dataset, tmp_path_factory):
    """``publish(model, version)``: an artifact directory of a briefly trained model under that version."""
    from training.artifacts import save_artifact
    from training.config import TrainConfig
    from training.trainer import train

    trained = {}

    def make(model: str, version: str):
        if model not in trained:
            trained[model] = train(small_dataset, TrainConfig(**SERVING_CONFIGS[model]), progress=False,
                                   echo=lambda s: None)
        result = trained[model]
        out = tmp_path_factory.mktemp(f"{model}-{version}")
        save_artifact(out, result.model, small_dataset, {"config": result.config.to_dict()}, result.test_metrics,
                      version=version)
        return out

    return make


# Fixtures that start (or build) a real server: a test using one is an integration test.
REAL_SERVER_FIXTURES = {"stack_root", "postgres_server", "pg_url", "kafka_broker", "topics", "kube_apiserver", "helm",
                        "served", "browser",
                        "cluster"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_SERVER_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)
