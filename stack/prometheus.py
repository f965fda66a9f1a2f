"""Prometheus (the Debian package) scraping local targets, and the Prometheus Operator's CRDs
(ServiceMonitor, PrometheusRule) from its Go module, for validating the chart's monitoring objects."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from stack.process import LocalServer, StackError, apt_install, port_open, read_pid, spawn, stop_process, wait_for

PROMETHEUS_OPERATOR_VERSION = "v0.85.0"


def prometheus_binaries() -> tuple[Path, Path]:
    """(prometheus, promtool), installed from Debian's packages when missing."""
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        apt_install("prometheus")
    found = shutil.which("prometheus"), shutil.which("promtool")
    if not all(found):
        raise StackError("prometheus/promtool not found after apt-get install prometheus")
    return Path(found[0]), Path(found[1])


def prometheus_operator_crds() -> list[Path]:
    """The ServiceMonitor and PrometheusRule CRDs, from the operator's module on the Go module proxy."""
    result = subprocess.run(["go", "mod", "download", "-json",
                             f"github.com/prometheus-operator/prometheus-operator@{PROMETHEUS_OPERATOR_VERSION}"],
                            capture_output=True, text=True, check=False, cwd="/")
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise StackError(f"go mod download of the Prometheus Operator failed:\n{result.stderr[-2000:]}") from None
    if "Dir" not in info:
        raise StackError(f"go mod download of the Prometheus Operator failed: {info.get('Error')}")
    crds = Path(info["Dir"]) / "example" / "prometheus-operator-crd"
    return [crds / f"monitoring.coreos.com_{kind}.yaml" for kind in ("servicemonitors", "prometheusrules")]


@dataclass
class PrometheusServer(LocalServer):
    root: Path
    port: int
    targets: list[str] = field(default_factory=list)
    name = "prometheus"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> PrometheusServer:
        if self.running():
            return self
        if port_open(self.port):
            raise StackError(f"port {self.port} is already in use; choose another for Prometheus")
        prometheus, _ = prometheus_binaries()
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "prometheus.yml"
        config.write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "recsys", "static_configs": [{"targets": self.targets}]}]}))
        spawn([str(prometheus), f"--config.file={config}", f"--storage.tsdb.path={self.root / 'data'}",
               f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"], self.log, self.pid_file)
        wait_for(self._ready, timeout_s, "Prometheus", self.log)
        return self

    def stop(self) -> None:
        stop_process(self.pid_file)

    def query(self, expr: str) -> list[dict]:
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())["data"]["result"]

    def metric_names(self) -> set[str]:
        with urllib.request.urlopen(f"{self.url}/api/v1/label/__name__/values", timeout=10) as response:
            return set(json.loads(response.read())["data"])

    def _ready(self) -> bool:
        if read_pid(self.pid_file) is None:
            raise StackError(f"Prometheus exited; see {self.log}:\n{self.log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

