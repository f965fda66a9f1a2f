"""torch's thread pool: sized from the available CPUs, pinned by RECSYS_THREADS, fitted to the load."""

from __future__ import annotations

import pytest
import torch

from core.errors import SettingsError
from models import threads


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
    threads._configured.clear()


def test_auto_uses_the_available_cpus(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 3)
    assert threads.configure_torch_threads({}) == 3 and torch.get_num_threads() == 3


def test_serving_uses_one_thread_unless_pinned(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 4)
    assert threads.configure_torch_threads({}, serving=True) == 1 and torch.get_num_threads() == 1
    monkeypatch.setattr(threads, "runnable_elsewhere", lambda: 0.0)
    assert threads.fit_threads_to_load() == 1
    assert threads.configure_torch_threads({"RECSYS_THREADS": "3"}, serving=True) == 3


def test_a_pinned_count_is_used_and_never_adapted(monkeypatch):
    assert threads.configure_torch_threads({"RECSYS_THREADS": "1"}) == 1
    monkeypatch.setattr(threads, "runnable_elsewhere", lambda: 0.0)
    assert threads.fit_threads_to_load() == 1


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_bad_count_is_a_settings_error(value):
    with pytest.raises(SettingsError, match="RECSYS_THREADS"):
        threads.configure_torch_threads({"RECSYS_THREADS": value})


def test_fitting_to_the_load_leaves_the_cores_others_want(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 4)
    threads.configure_torch_threads({})
    for busy, expected in ((0.0, 4), (1.0, 3), (2.4, 2), (9.0, 1), (0.0, 4)):
        monkeypatch.setattr(threads, "runnable_elsewhere", lambda busy=busy: busy)
        assert threads.fit_threads_to_load() == expected and torch.get_num_threads() == expected


def test_without_configuration_torch_defaults_stay(monkeypatch):
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "runnable_elsewhere", lambda: 5.0)
    assert threads.fit_threads_to_load() == 2
