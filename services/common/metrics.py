"""Prometheus metrics every service exports on its own HTTP port (RECSYS_METRICS_PORT).

Names are the contract the dashboards and alerts will use:
- ``recsys_rpc_duration_seconds{service,method,code}``: histogram of server-side RPC latency;
- ``recsys_rpc_total{service,method,code}``: RPCs by status code (the histogram's count, kept
  as its own counter so error-rate queries stay simple);
- ``recsys_gateway_fallbacks_total{hop}``: degraded answers by the backend that failed;
- ``recsys_gateway_mode_total{mode}``: answers by serving mode;
- ``recsys_retrieval_candidates``: histogram of candidates returned per retrieval;
- ``recsys_retrieval_answers_total{answered_by}``: retrievals answered from precomputed candidates,
  by a scan of every item, or with popularity (no vector);
- ``recsys_gateway_route_total{route}`` / ``recsys_gateway_traffic_weight{route}``: traffic split;
- ``recsys_model_info{service,version}``: 1 for the model version a service serves;
- ``recsys_batch_size{batcher}``: histogram of requests answered per micro-batch (retrieval
  search, NCF scoring); near 1 means the service is idle, growing with load.
"""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

RPC_DURATION = Histogram("recsys_rpc_duration_seconds", "Server-side gRPC latency", ["service", "method", "code"],
                         buckets=LATENCY_BUCKETS)
RPC_TOTAL = Counter("recsys_rpc", "gRPC calls handled", ["service", "method", "code"])
FALLBACKS = Counter("recsys_gateway_fallbacks", "Degraded gateway answers by failed hop", ["hop"])
MODES = Counter("recsys_gateway_mode", "Gateway answers by serving mode", ["mode"])
CANDIDATES = Histogram("recsys_retrieval_candidates", "Candidates returned per retrieval",
                       buckets=(0, 10, 50, 100, 200, 500, 1000))
RETRIEVAL_ANSWERS = Counter("recsys_retrieval_answers", "Retrievals by what answered them: precomputed "
                            "candidates, a scan of every item, or popularity (no vector)", ["answered_by"])
ROUTES = Counter("recsys_gateway_route", "Recommend calls by traffic-split route", ["route"])
TRAFFIC_WEIGHT = Gauge("recsys_gateway_traffic_weight", "Share of traffic each route receives", ["route"])
BATCH_SIZE = Histogram("recsys_batch_size", "Requests computed together per micro-batch", ["batcher"],
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
MODEL_INFO = Gauge("recsys_model_info", "Model version served (1 = active)", ["service", "version"])


@functools.lru_cache(maxsize=1024)
def labelled(metric: MetricWrapperBase, *values: str) -> MetricWrapperBase:
    """``metric.labels(*values)``, remembered: labels() takes a lock and builds its key on every call,
    a tenth of a Recommend's own Python. Only for metrics whose labelled series are never removed."""
    return metric.labels(*values)


def set_model_version(service: str, version: str) -> None:
    for labels in list(MODEL_INFO._metrics):
        if labels[0] == service:
            MODEL_INFO.remove(*labels)
    MODEL_INFO.labels(service=service, version=version).set(1)
