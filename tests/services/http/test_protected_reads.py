"""A `recsys serve all` whose reads need a token too (RECSYS_AUTH_TOKENS + RECSYS_AUTH_READS=token),
in plain text: gRPC reads and HTTP API reads refuse callers without the token, health and the web
page's own files stay open, and the web interface asks for the token once and then works."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from http_helpers import request
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from servers import eventually, start_serve_all

from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
TOKEN = "reader-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def guarded(publish, tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("guarded")
    process, ports, log = start_serve_all(publish("lightgcn", "guarded-v1"), publish("neumf", "guarded-ncf-v1"), root,
                                          {"RECSYS_AUTH_TOKENS": TOKEN, "RECSYS_AUTH_READS": "token"})
    base = f"http://127.0.0.1:{ports['http']}"

    def ready() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return request("GET", base + "/ready")[0] == 200
        except OSError:
            return False

    try:
        eventually(ready, 180, "serve all with protected reads ready", interval_s=0.3)
        yield {"http": base, "gateway": f"127.0.0.1:{ports['gateway']}", "log": log}
    finally:
        process.terminate()
        process.wait(30)


def test_grpc_reads_need_the_token_and_health_does_not(guarded):
    channel = grpc.insecure_channel(guarded["gateway"])
    stub = pb_grpc.RecommendationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=3), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    answer = stub.Recommend(pb.RecommendRequest(user_id="U0000001", k=3), timeout=30,
                            metadata=[("authorization", f"Bearer {TOKEN}")])
    assert len(answer.items) == 3
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == health_pb2.HealthCheckResponse.SERVING
    # plain text is said at startup, loudly
    assert "PLAIN TEXT" in guarded["log"].read_text() and TOKEN not in guarded["log"].read_text()


def test_http_reads_need_the_token_and_the_page_does_not(guarded):
    base = guarded["http"]
    for method, path, body in (("POST", "/recommendations", {"userId": "U0000001", "k": 3}),
                               ("GET", "/models", None), ("GET", "/system-info", None),
                               ("GET", "/users/U0000001/history", None)):
        status, problem, headers = request(method, base + path, body)
        assert status == 401 and problem["status"] == 401 and headers.get("www-authenticate"), (path, status)
        status, _, _ = request(method, base + path, body, headers=BEARER)
        assert status == 200, (path, status)
    assert request("GET", base + "/health")[0] == 200 and request("GET", base + "/ready")[0] == 200
    with urllib.request.urlopen(base + "/", timeout=30) as page:  # the page itself: anyone may load it
        assert page.status == 200 and b"sign-in" in page.read()


def test_the_web_interface_asks_for_the_token_once(guarded, browser):
    wait = WebDriverWait(browser, 60)
    browser.get(guarded["http"] + "/")
    # the model list is the page's first call: refused, so it asks
    wait.until(lambda d: d.find_element(By.ID, "sign-in").get_attribute("open") is not None)
    assert "Authorization" in browser.find_element(By.ID, "sign-in-reason").text
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "use-token").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 1)  # the retried call
    browser.find_element(By.ID, "recommend").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#recommendations .card"))
    assert browser.find_element(By.ID, "sign-in").get_attribute("open") is None  # asked once only
    assert not browser.find_element(By.ID, "error").is_displayed()
