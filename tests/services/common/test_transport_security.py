"""TLS, mutual TLS and bearer tokens on a real `recsys serve all` (RECSYS_TLS_DIR, RECSYS_MTLS=on,
RECSYS_AUTH_TOKENS), its gateway calling its backends over gRPC (not in-process), so the gateway's
own client side of mutual TLS is exercised too."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from http_helpers import request
from servers import eventually, start_serve_all
from tls_helpers import make_tls_dir

from recsys.v1 import common_pb2
from recsys.v1 import embedding_service_pb2 as emb_pb
from recsys.v1 import embedding_service_pb2_grpc as emb_grpc
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
TOKEN = "test-token-0123456789abcdef"
VIEW = common_pb2.INTERACTION_TYPE_VIEW


@dataclass
class Secured:
    ports: dict[str, int]
    server_tls: Path  # what the server presents (its RECSYS_TLS_DIR)
    client_tls: Path  # a client certificate from the same CA
    stranger_tls: Path  # a certificate from another CA
    items: list[str]
    log: Path

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.server_tls / "ca.crt"))

    def channel(self, port: str, tls: Path | None = None, present: bool = True) -> grpc.Channel:
        """A channel to ``port`` trusting ``tls``'s CA, presenting its certificate when ``present``."""
        tls = tls or self.client_tls
        credentials = grpc.ssl_channel_credentials(
            root_certificates=(tls / "ca.crt").read_bytes(),
            private_key=(tls / "tls.key").read_bytes() if present else None,
            certificate_chain=(tls / "tls.crt").read_bytes() if present else None)
        return grpc.secure_channel(f"127.0.0.1:{self.ports[port]}", credentials)


@pytest.fixture(scope="module")
def secured(publish, tmp_path_factory) -> Iterator[Secured]:
    lightgcn, neumf = publish("lightgcn", "tls-v1"), publish("neumf", "tls-ncf-v1")
    root = tmp_path_factory.mktemp("tls")
    server_tls, client_tls = make_tls_dir(root, "server"), make_tls_dir(root, "client")
    stranger_tls = make_tls_dir(root, "stranger", ca_name="another-ca")
    process, ports, log = start_serve_all(lightgcn, neumf, root, {
        "RECSYS_TLS_DIR": str(server_tls), "RECSYS_MTLS": "on", "RECSYS_AUTH_TOKENS": f"{TOKEN},second-token-abcdefgh",
        "RECSYS_LOCAL_BACKENDS": "0", "RECSYS_SYSTEM_INFO_BACKENDS": "on"})
    secured = Secured(ports, server_tls, client_tls, stranger_tls,
                      json.loads((lightgcn / "item_ids.json").read_text()), log)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return _status(f"https://localhost:{ports['metrics']}/readyz", secured.context()) == 200
        except OSError:
            return False

    try:
        eventually(ready, 180, "serve all with TLS ready", interval_s=0.3)
        yield secured
    finally:
        process.terminate()
        process.wait(30)


def _status(url: str, context: ssl.SSLContext) -> int:
    try:
        with urllib.request.urlopen(url, context=context, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


def test_recommend_over_mutual_tls_through_backends_called_over_mutual_tls(secured):
    stub = pb_grpc.RecommendationServiceStub(secured.channel("gateway"))
    answer = stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=5), timeout=30)
    # FULL: the gateway reached retrieval and scoring over its own mutual-TLS channels
    assert answer.mode == common_pb2.SERVING_MODE_FULL and len(answer.items) == 5, answer


def test_startup_log_says_what_is_protected(secured):
    text = secured.log.read_text()
    assert "mutual TLS; writes need a bearer token, reads are open" in text
    assert TOKEN not in text


def test_plain_text_client_cannot_call(secured):
    stub = pb_grpc.RecommendationServiceStub(grpc.insecure_channel(f"127.0.0.1:{secured.ports['gateway']}"))
    assert _code(lambda: stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=5), timeout=10)) \
        == grpc.StatusCode.UNAVAILABLE


def test_client_without_a_certificate_is_refused(secured):
    stub = pb_grpc.RecommendationServiceStub(secured.channel("gateway", present=False))
    assert _code(lambda: stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=5), timeout=10)) \
        == grpc.StatusCode.UNAVAILABLE


def test_certificate_from_another_ca_is_refused_both_ways(secured):
    # the stranger trusts only its own CA: it refuses the server's certificate
    stub = pb_grpc.RecommendationServiceStub(secured.channel("gateway", tls=secured.stranger_tls))
    assert _code(lambda: stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=5), timeout=10)) \
        == grpc.StatusCode.UNAVAILABLE
    # trusting the right CA but presenting the stranger's certificate: the server refuses it
    mixed = grpc.ssl_channel_credentials(root_certificates=(secured.server_tls / "ca.crt").read_bytes(),
                                         private_key=(secured.stranger_tls / "tls.key").read_bytes(),
                                         certificate_chain=(secured.stranger_tls / "tls.crt").read_bytes())
    stub = pb_grpc.RecommendationServiceStub(grpc.secure_channel(f"127.0.0.1:{secured.ports['gateway']}", mixed))
    assert _code(lambda: stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=5), timeout=10)) \
        == grpc.StatusCode.UNAVAILABLE


def test_writes_need_a_valid_token_and_refusals_are_counted(secured):
    stub = emb_grpc.EmbeddingServiceStub(secured.channel("embedding"))
    record = emb_pb.RecordInteractionsRequest(user_id="U0000002", interactions=[
        common_pb2.Interaction(item_id=secured.items[3], type=VIEW, value=1.0)])
    with pytest.raises(grpc.RpcError) as missing:
        stub.RecordInteractions(record, timeout=10)
    assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "bearer token" in missing.value.details()
    with pytest.raises(grpc.RpcError) as wrong:
        stub.RecordInteractions(record, timeout=10, metadata=[("authorization", "Bearer not-the-token-at-all")])
    assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED and "not valid" in wrong.value.details()
    batch = emb_pb.BatchRecordInteractionsRequest(users=[record])
    assert _code(lambda: stub.BatchRecordInteractions(batch, timeout=10)) == grpc.StatusCode.UNAUTHENTICATED
    # either configured token works (rotation: the second is accepted too)
    assert stub.RecordInteractions(record, timeout=10, metadata=[("authorization", f"Bearer {TOKEN}")]).recorded == 1
    assert stub.RecordInteractions(record, timeout=10,
                                   metadata=[("authorization", "Bearer second-token-abcdefgh")]).recorded == 1
    # reads stay open, and so does health (kubelet probes carry no token)
    assert stub.GetUserEmbedding(emb_pb.GetUserEmbeddingRequest(user_id="U0000002"), timeout=10).folded_in
    health = health_pb2_grpc.HealthStub(secured.channel("embedding"))
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == health_pb2.HealthCheckResponse.SERVING
    assert _status(f"https://localhost:{secured.ports['metrics']}/livez", secured.context()) == 200
    metrics = urllib.request.urlopen(f"https://localhost:{secured.ports['metrics']}/metrics",
                                     context=secured.context(), timeout=30).read().decode()
    refused = [line for line in metrics.splitlines() if line.startswith("recsys_rpc_total{")
               and 'method="RecordInteractions"' in line and 'code="UNAUTHENTICATED"' in line]
    assert refused and float(refused[0].rsplit(" ", 1)[1]) >= 2, refused


def test_system_info_lists_backends_only_to_token_holders(secured):
    stub = pb_grpc.RecommendationServiceStub(secured.channel("gateway"))
    anonymous = stub.GetSystemInfo(pb.GetSystemInfoRequest(), timeout=10)
    assert dict(anonymous.backends) == {} and anonymous.items > 0
    holder = stub.GetSystemInfo(pb.GetSystemInfoRequest(), timeout=10,
                                metadata=[("authorization", f"Bearer {TOKEN}")])
    assert "default/retrieval" in holder.backends


def test_http_api_speaks_https_and_events_need_the_token(secured):
    base, context = f"https://localhost:{secured.ports['http']}", secured.context()
    assert request("GET", base + "/health", context=context)[0] == 200
    with pytest.raises(OSError):  # plain http to the TLS port gets no HTTP answer
        urllib.request.urlopen(f"http://localhost:{secured.ports['http']}/health", timeout=10)
    status, body, _ = request("POST", base + "/recommendations", {"userId": "U0000001", "k": 3}, context=context)
    assert status == 200 and len(body["items"]) == 3  # reads are open
    event = {"userId": "U0000003", "itemId": secured.items[5], "type": "view"}
    status, body, headers = request("POST", base + "/events", event, context=context)
    assert status == 401 and headers.get("www-authenticate", "").startswith("Bearer"), (status, headers)
    assert body["status"] == 401 and "Authorization: Bearer" in body["detail"]
    status, body, _ = request("POST", base + "/events", event, headers={"Authorization": "Bearer wrong-token-0123456"},
                              context=context)
    assert status == 401 and "not valid" in body["detail"]
    status, body, _ = request("POST", base + "/events", event, headers={"Authorization": f"Bearer {TOKEN}"},
                              context=context)
    assert status == 202 and body["userId"] == "U0000003"
    # the accepted event went through the pipeline: the user's history shows it
    eventually(lambda: any(i["itemId"] == secured.items[5] for i in request(
        "GET", base + "/users/U0000003/history", context=context)[1].get("interactions", [])),
        60, "the posted event in the history")


def test_a_renewed_certificate_is_served_to_new_connections_without_a_restart(secured, tmp_path):
    # cert-manager renews the leaf certificate in the mounted Secret, signed by the same CA
    shutil.copytree(secured.server_tls.parent / "recsys-test-ca", tmp_path / "recsys-test-ca")
    renewed = make_tls_dir(tmp_path, "renewed")
    for name in ("tls.key", "tls.crt"):  # both before any handshake reads them
        shutil.copy(renewed / name, secured.server_tls / f".{name}")
    for name in ("tls.key", "tls.crt"):
        os.replace(secured.server_tls / f".{name}", secured.server_tls / name)
    expected = ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert((renewed / "tls.crt").read_text()))

    def served_certificate() -> bool:
        time.sleep(0.1)
        return ssl.get_server_certificate(("127.0.0.1", secured.ports["gateway"]),
                                          ca_certs=str(secured.server_tls / "ca.crt")) == expected

    eventually(served_certificate, 30, "the gateway presenting the renewed certificate")
    stub = pb_grpc.RecommendationServiceStub(secured.channel("gateway"))
    assert stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=5), timeout=30).mode == common_pb2.SERVING_MODE_FULL
