"""Hot reload under load: flipping the artifact symlink to a new version swaps the model in without
a single failed request, and a broken new version leaves the old one serving."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time

import grpc
import pytest
from servers import ServerThread

from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common.heap import freeze_long_lived
from services.common.reload import watch_artifact
from services.common.settings import ServiceSettings
from services.retrieval.main import build_server, load_index
from training.artifacts import save_artifact
from training.config import TrainConfig
from training.trainer import train


@pytest.fixture(scope="module")
def versions(small_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("artifacts")
    result = train(small_dataset, TrainConfig(model="lightgcn", epochs=1, batch_size=1024), progress=False,
                   echo=lambda s: None)
    for version in ("v1", "v2"):
        save_artifact(root / version, result.model, small_dataset, {"config": {}}, {}, version=version)
    (root / "broken").mkdir()
    (root / "broken" / "manifest.json").write_text('{"version": "v3", "files": {}}')
    os.symlink(root / "v1", root / "current")
    return root


def _flip(root, target: str) -> None:
    tmp = root / "current.tmp"
    os.symlink(root / target, tmp)
    os.replace(tmp, root / "current")  # atomic: readers see the old or the new link, never none


def test_reload_under_load_drops_nothing(versions):
    current = versions / "current"
    settings = ServiceSettings.from_env("retrieval", {"RECSYS_ARTIFACT": str(current), "RECSYS_HOST": "127.0.0.1",
                                                      "RECSYS_PORT": "0"})
    server, servicer = build_server(settings)
    thread = ServerThread(server)
    servicer.load(*load_index(current.resolve()))
    thread.call(server.mark_serving())
    watcher = asyncio.run_coroutine_threadsafe(
        watch_artifact(current, "v1", load_index, lambda loaded: servicer.load(*loaded), 0.05,
                       after_install=freeze_long_lived), thread.loop)
    stub = pb_grpc.RetrievalServiceStub(thread.channel)
    seen, errors, stop = [], [], threading.Event()

    def fire() -> None:
        while not stop.is_set():
            try:
                seen.append(stub.Retrieve(pb.RetrieveRequest(num_candidates=20), timeout=5).model_version)
            except grpc.RpcError as error:
                errors.append(error.code())

    callers = [threading.Thread(target=fire) for _ in range(4)]
    try:
        for caller in callers:
            caller.start()
        time.sleep(0.5)
        _flip(versions, "broken")  # a version that cannot load: the old model keeps serving
        time.sleep(0.5)
        _flip(versions, "v2")
        deadline = time.time() + 20
        while time.time() < deadline and (not seen or seen[-1] != "v2"):
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        for caller in callers:
            caller.join()
        watcher.cancel()
        thread.close()
        frozen = gc.get_freeze_count()
        gc.unfreeze()
    assert errors == []
    assert seen[0] == "v1" and seen[-1] == "v2" and "v3" not in seen
    assert frozen > 0  # the reload froze the new model's objects while calls kept coming
    # calls in flight at the swap may still answer from v1; everything after them is v2
    assert set(seen[-20:]) == {"v2"} and len(seen) > 50
