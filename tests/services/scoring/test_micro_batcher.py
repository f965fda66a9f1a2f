"""Dynamic micro-batching: concurrent requests share one computation on the worker thread, requests
arriving while it runs form the next batch, errors stay with their batch, callers that gave up are
skipped, and batched NCF scores equal one-by-one scores."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from models.loaded import load_model
from services.common.batching import MicroBatcher
from services.scoring.batcher import ScoreBatcher


def test_requests_of_one_turn_form_one_batch_and_later_ones_the_next():
    release = threading.Event()
    seen: list[list[int]] = []

    def run(key, items):
        seen.append(list(items))
        if len(seen) == 1:
            release.wait(5)  # the first batch is still running while more requests arrive
        return [item * 10 for item in items]

    batcher: MicroBatcher[int, int] = MicroBatcher("test", run)

    async def scenario():
        first = [asyncio.ensure_future(batcher.submit("k", n)) for n in range(3)]
        await asyncio.sleep(0.05)  # batch [0, 1, 2] is now on the worker thread, blocked
        later = [asyncio.ensure_future(batcher.submit("k", n)) for n in range(3, 8)]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(*first, *later)

    assert asyncio.run(scenario()) == [n * 10 for n in range(8)]
    assert seen == [[0, 1, 2], [3, 4, 5, 6, 7]]
    assert batcher.batches == 2 and batcher.items == 8
    batcher.close()


def test_keys_never_share_a_batch_and_an_error_stays_with_its_batch():
    def run(key, items):
        if key == "bad":
            raise ValueError("this model cannot answer")
        return [(key, item) for item in items]

    batcher: MicroBatcher[int, tuple] = MicroBatcher("test", run)

    async def scenario():
        return await asyncio.gather(*(batcher.submit(key, n) for n, key in enumerate(["a", "bad", "b", "a", "bad"])),
                                    return_exceptions=True)

    results = asyncio.run(scenario())
    assert results[0] == ("a", 0) and results[2] == ("b", 2) and results[3] == ("a", 3)
    assert all(isinstance(results[i], ValueError) and "cannot answer" in str(results[i]) for i in (1, 4))
    batcher.close()


def test_max_batch_splits_and_a_caller_that_gave_up_is_skipped():
    sizes: list[int] = []

    def run(key, items):
        sizes.append(len(items))
        return list(items)

    batcher: MicroBatcher[int, int] = MicroBatcher("test", run, max_batch=4)

    async def scenario():
        tasks = [asyncio.ensure_future(batcher.submit("k", n)) for n in range(10)]
        tasks[9].cancel()  # its deadline passed before the batch started
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(scenario())
    assert results[:9] == list(range(9)) and isinstance(results[9], asyncio.CancelledError)
    assert sizes == [4, 4, 1]
    batcher.close()


def test_a_wrong_number_of_results_is_an_error_not_a_misalignment():
    batcher: MicroBatcher[int, int] = MicroBatcher("test", lambda key, items: [1])

    async def scenario():
        return await asyncio.gather(*(batcher.submit("k", n) for n in range(3)), return_exceptions=True)

    assert all(isinstance(r, RuntimeError) and "1 results for 3 items" in str(r) for r in asyncio.run(scenario()))
    batcher.close()


@pytest.fixture(scope="module")
def neumf(publish):
    return load_model(publish("neumf", "neumf-batching"))


def test_batched_ncf_scores_equal_scores_computed_alone(neumf):
    rng = np.random.default_rng(0)
    n_users, n_items = len(neumf.user_ids), len(neumf.item_ids)
    requests = [(int(rng.integers(n_users)), rng.choice(n_items, size=int(rng.integers(1, 60)), replace=False))
                for _ in range(12)]
    batcher = ScoreBatcher()

    async def scenario():
        return await asyncio.gather(*(batcher.score(neumf, user, items) for user, items in requests))

    batched = asyncio.run(scenario())
    assert batcher.batches == 1 and batcher.requests == 12
    for (user, items), got in zip(requests, batched):
        alone = batcher_free_scores(neumf, user, items)
        assert got.shape == (len(items),) and np.allclose(got, alone, atol=1e-5)
    batcher.close()


def batcher_free_scores(model, user, items):
    import torch

    with torch.no_grad():
        return model.model.score_pairs(torch.full((len(items),), user), torch.from_numpy(items)).numpy()
