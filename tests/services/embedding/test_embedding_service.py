"""EmbeddingService on a real gRPC server over loopback: trained vectors, fold-in after recorded
interactions (the next answer reflects them), cold users and bad input."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from servers import ServerThread

from recsys.v1 import common_pb2
from recsys.v1 import embedding_service_pb2 as pb
from recsys.v1 import embedding_service_pb2_grpc as pb_grpc
from services.common.settings import ServiceSettings
from services.embedding.main import build_server
from services.embedding.store import EmbeddingModel, RecentInteractions

VIEW, RATING = common_pb2.INTERACTION_TYPE_VIEW, common_pb2.INTERACTION_TYPE_RATING


@pytest.fixture(scope="module")
def service(publish, small_dataset):
    artifact = publish("lightgcn", "e1")
    settings = ServiceSettings.from_env("embedding", {"RECSYS_ARTIFACT": str(artifact), "RECSYS_HOST": "127.0.0.1",
                                                      "RECSYS_PORT": "0"})
    server_obj, servicer = build_server(settings)
    model = EmbeddingModel.from_artifact(artifact)
    servicer.load(model)
    server = ServerThread(server_obj)
    server.call(server_obj.mark_serving())
    yield {"stub": pb_grpc.EmbeddingServiceStub(server.channel), "model": model, "dataset": small_dataset}
    server.close()


def test_trained_user_gets_trained_vector_and_seen_items(service):
    model, stub = service["model"], service["stub"]
    user_id = list(model.user_index)[4]
    response = stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=user_id), timeout=5)
    index = model.user_index[user_id]
    assert response.known and not response.folded_in and response.model_version == "e1"
    assert np.allclose(response.vector, model.user_vectors[index], atol=1e-6)
    assert sorted(response.seen_item_ids) == sorted(model.item_ids[i] for i in model.training_items(index))


def test_recorded_interactions_change_the_next_answer(service):
    model, stub = service["model"], service["stub"]
    user_id = list(model.user_index)[7]
    before = np.array(stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=user_id), timeout=5).vector)
    seen = set(stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=user_id), timeout=5).seen_item_ids)
    new_item = next(i for i in model.item_ids if i not in seen)
    reply = stub.RecordInteractions(pb.RecordInteractionsRequest(user_id=user_id, interactions=[
        common_pb2.Interaction(item_id=new_item, type=VIEW, value=1.0),
        common_pb2.Interaction(item_id="not-in-catalogue", type=VIEW, value=1.0)]), timeout=5)
    assert reply.recorded == 1 and list(reply.unknown_item_ids) == ["not-in-catalogue"]
    after = stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=user_id), timeout=5)
    assert after.folded_in and new_item in after.seen_item_ids
    # the new item's score rises relative to the user's other candidates
    item_vector = model.item_vectors[model.item_index[new_item]]
    assert np.dot(after.vector, item_vector) / np.linalg.norm(after.vector) > \
        np.dot(before, item_vector) / np.linalg.norm(before)


def test_cold_user_then_folded_in(service):
    model, stub = service["model"], service["stub"]
    cold = stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id="newcomer"), timeout=5)
    assert not cold.known and len(cold.vector) == 0 and len(cold.seen_item_ids) == 0
    items = model.item_ids[:3]
    stub.RecordInteractions(pb.RecordInteractionsRequest(user_id="newcomer", interactions=[
        common_pb2.Interaction(item_id=i, type=common_pb2.INTERACTION_TYPE_PURCHASE, value=1.0) for i in items]))
    warm = stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id="newcomer"), timeout=5)
    assert warm.known and warm.folded_in and len(warm.vector) == model.dim
    assert sorted(warm.seen_item_ids) == sorted(items)


def test_low_ratings_do_not_pull_the_vector(service):
    model, stub = service["model"], service["stub"]
    reply = stub.RecordInteractions(pb.RecordInteractionsRequest(user_id="critic", interactions=[
        common_pb2.Interaction(item_id=model.item_ids[0], type=RATING, value=1.0)]), timeout=5)
    assert reply.recorded == 0
    assert not stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id="critic"), timeout=5).known


@pytest.mark.parametrize("request_obj,message", [
    (pb.RecordInteractionsRequest(user_id="u"), "interactions must not be empty"),
    (pb.RecordInteractionsRequest(user_id="", interactions=[common_pb2.Interaction(item_id="x", type=VIEW)]),
     "user_id must not be empty"),
    (pb.RecordInteractionsRequest(user_id="u", interactions=[common_pb2.Interaction(item_id="x")]),
     "type must be set"),
    (pb.RecordInteractionsRequest(user_id="u", interactions=[common_pb2.Interaction(item_id="", type=VIEW)]),
     "item_id must not be empty"),
])
def test_bad_record_requests(service, request_obj, message):
    with pytest.raises(grpc.RpcError) as error:
        service["stub"].RecordInteractions(request_obj, timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in error.value.details()


def test_recent_interactions_are_bounded():
    recent = RecentInteractions(max_users=2, max_items_per_user=3)
    recent.add("a", ["P1", "P2"])
    recent.add("b", ["P3"])
    recent.add("a", ["P4", "P5"])
    recent.add("c", ["P6"])  # "b" is the least recently updated user: forgotten
    assert recent.get("a") == ["P2", "P4", "P5"] and recent.get("b") == [] and recent.get("c") == ["P6"]
    assert len(recent) == 2


def test_batch_record_updates_many_users_in_one_call(service):
    model, stub = service["model"], service["stub"]
    items = model.item_ids[:3]
    reply = stub.BatchRecordInteractions(pb.BatchRecordInteractionsRequest(users=[
        pb.RecordInteractionsRequest(user_id=f"batch-user-{n}", interactions=[
            common_pb2.Interaction(item_id=items[n], type=VIEW, value=1.0)]) for n in range(3)]
        + [pb.RecordInteractionsRequest(user_id="batch-user-x", interactions=[
            common_pb2.Interaction(item_id="nope", type=VIEW, value=1.0)])]), timeout=5)
    assert reply.recorded == 3 and list(reply.unknown_item_ids) == ["nope"]
    for n in range(3):
        answer = stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=f"batch-user-{n}"), timeout=5)
        assert answer.folded_in and list(answer.seen_item_ids) == [items[n]]


def test_a_bad_entry_rejects_the_whole_batch(service):
    stub = service["stub"]
    good = pb.RecordInteractionsRequest(user_id="all-or-nothing", interactions=[
        common_pb2.Interaction(item_id=service["model"].item_ids[0], type=VIEW)])
    bad = pb.RecordInteractionsRequest(user_id="u", interactions=[common_pb2.Interaction(item_id="x")])
    with pytest.raises(grpc.RpcError) as error:
        stub.BatchRecordInteractions(pb.BatchRecordInteractionsRequest(users=[good, bad]), timeout=5)
    assert (error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            and "users[1].interactions[0].type" in error.value.details())
    assert not stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id="all-or-nothing"), timeout=5).known
    with pytest.raises(grpc.RpcError) as error:
        stub.BatchRecordInteractions(pb.BatchRecordInteractionsRequest(), timeout=5)
    assert "users must not be empty" in error.value.details()
