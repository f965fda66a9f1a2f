"""Settings the composition layer itself reads (beside each service's own): `serve all` and the
development reload. Kept apart from the modules that use them so that `--help` stays light."""

from __future__ import annotations

from pathlib import Path

from core.ports import GRPC_PORTS, METRICS_PORTS
from core.settings import Setting

QUICKSTART = Path("artifacts/quickstart")  # where `make quickstart` writes its models

SERVE_ALL_SETTINGS = (
    Setting("RECSYS_ARTIFACT", f"{QUICKSTART}/lightgcn when it exists",
            "LightGCN artifact for embedding, retrieval and the gateway's catalogue"),
    Setting("RECSYS_SCORING_ARTIFACT", f"{QUICKSTART}/neumf when it exists",
            "NCF artifact (neumf, gmf, mlp or mf) for scoring"),
    *(Setting(f"RECSYS_{service.upper()}_PORT", str(port), f"{service} gRPC port")
      for service, port in GRPC_PORTS.items()),
    Setting("RECSYS_METRICS_PORT", str(METRICS_PORTS["all"]), "Prometheus /metrics port for all four (worker i: + i)"),
    Setting("RECSYS_WORKERS", "1", "processes serving the same ports (SO_REUSEPORT); on Kubernetes scale pods instead"),
    Setting("RECSYS_LOCAL_BACKENDS", "1", "0: the gateway calls its backends over loopback gRPC instead of in-process"),
)

DEV_SETTINGS = (
    Setting("RECSYS_DEV_RELOAD", "", "1: re-execute the process when its Python source changes (Tilt live update)"),
)
