"""Default ports of each serving process: one table for the services, `serve all`, the operator's
serving manifests and the chart's defaults."""

GRPC_PORTS = {"gateway": 50051, "retrieval": 50052, "scoring": 50053, "embedding": 50054}
METRICS_PORTS = {"gateway": 9091, "retrieval": 9092, "scoring": 9093, "embedding": 9094, "all": 9090}
