"""A real Kubernetes API server with etcd, built from their Go modules (no kubelet, no Docker).

`stack/kube/go.mod` pins k8s.io/kubernetes and go.etcd.io/etcd/server; the binaries are built once
with the machine's Go into ``~/.cache/recsys/kube-<version>/bin``. The API server runs with RBAC,
a static admin token and a self-signed serving certificate; ``kubeconfig`` points kubectl, kopf and
the Python client at it.
"""

from __future__ import annotations

import ssl
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from stack.gobuild import go_build
from stack.process import CACHE_DIR, LocalServer, StackError, port_open, read_pid, spawn, stop_process, wait_for

HERE = Path(__file__).resolve().parent / "kube"
KUBE_VERSION = "v1.34.3"  # keep in step with kube/go.mod
BUILD_REVISION = 2  # bump when the build changes, so cached binaries are rebuilt
ADMIN_TOKEN = "recsys-stack-admin"  # a local throwaway cluster: the tokens are not secrets
# The operator's ServiceAccount, authenticated by a static token (no controller-manager issues
# tokens here), so tests run the operator with exactly the RBAC it ships with.
OPERATOR_TOKEN = "recsys-stack-operator"
OPERATOR_USER = "system:serviceaccount:default:recsys-operator"


def kube_binaries() -> tuple[Path, Path]:
    """(kube-apiserver, etcd), built on first use (several minutes on 2 cores), then cached."""
    return kube_binary("kube-apiserver"), kube_binary("etcd")


def kube_binary(name: str) -> Path:
    """One command of stack/kube's Go module (kube-apiserver, kubelet, kubectl, ... or etcd), built
    with the version a release stamps in, on first use, then cached."""
    output = CACHE_DIR / f"kube-{KUBE_VERSION}-{BUILD_REVISION}" / "bin" / name
    if output.exists():
        return output
    if name == "etcd":
        return go_build(HERE, "./etcd", output)
    major, minor = KUBE_VERSION.lstrip("v").split(".")[:2]
    # what a release build stamps in, so /version (and helm's kubeVersion checks) see the real version
    stamp = " ".join(f"-X {pkg}.{key}={value}"
                     for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
                     for key, value in (("gitVersion", KUBE_VERSION), ("gitMajor", major), ("gitMinor", minor),
                                        ("gitTreeState", "clean")))
    return go_build(HERE, f"k8s.io/kubernetes/cmd/{name}", output, ldflags=f"-s -w {stamp}")


@dataclass
class KubeAPIServer(LocalServer):
    root: Path
    port: int
    etcd_port: int
    etcd_peer_port: int
    name = "kube-apiserver"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def operator_kubeconfig(self) -> Path:
        """Credentials of the operator's ServiceAccount (only its RBAC applies)."""
        return self.root / "kubeconfig-operator"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def etcd_pid_file(self) -> Path:
        return self.root / "etcd.pid"

    def start(self, timeout_s: float = 120.0) -> KubeAPIServer:
        if self.running():
            return self
        for port in (self.port, self.etcd_port, self.etcd_peer_port):
            if port_open(port):
                raise StackError(f"port {port} is already in use; choose another for the API server")
        apiserver, etcd = kube_binaries()
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_credentials()
        if read_pid(self.etcd_pid_file) is None:
            peer, client = f"http://127.0.0.1:{self.etcd_peer_port}", f"http://127.0.0.1:{self.etcd_port}"
            spawn([str(etcd), "--name", "stack", "--data-dir", str(self.root / "etcd"),
                   "--listen-client-urls", client, "--advertise-client-urls", client,
                   "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                   "--initial-cluster", f"stack={peer}", "--log-level", "warn"],
                  self.root / "etcd.log", self.etcd_pid_file)
            wait_for(lambda: port_open(self.etcd_port), 30, "etcd", self.root / "etcd.log")
        spawn([str(apiserver), f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
               f"--secure-port={self.port}", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
               f"--cert-dir={self.root / 'certs'}", f"--token-auth-file={self.root / 'tokens.csv'}",
               "--authorization-mode=RBAC", "--service-cluster-ip-range=10.96.0.0/16",
               "--service-account-issuer=https://kubernetes.default.svc",
               f"--service-account-key-file={self.root / 'sa.pub'}",
               f"--service-account-signing-key-file={self.root / 'sa.key'}",
               # no controller-manager runs to create service accounts' tokens
               "--disable-admission-plugins=ServiceAccount",
               "--enable-priority-and-fairness=false", "--v=0"],
              self.log, self.pid_file)
        wait_for(self._ready, timeout_s, "kube-apiserver", self.log)
        return self

    def stop(self) -> None:
        stop_process(self.pid_file)
        stop_process(self.etcd_pid_file)

    def _ready(self) -> bool:
        if read_pid(self.pid_file) is None:
            raise StackError(f"kube-apiserver exited; see {self.log}:\n{self.log.read_text(errors='replace')[-3000:]}")
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        request = urllib.request.Request(f"{self.server}/readyz", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=2, context=context) as response:
                return response.status == 200
        except OSError:
            return False

    def _write_credentials(self) -> None:
        (self.root / "tokens.csv").write_text(
            f'{ADMIN_TOKEN},admin,admin,"system:masters"\n'
            f'{OPERATOR_TOKEN},{OPERATOR_USER},operator,"system:serviceaccounts,system:serviceaccounts:default"\n')
        if not (self.root / "sa.key").exists():
            subprocess.run(["openssl", "genrsa", "-out", str(self.root / "sa.key"), "2048"], check=True,
                           capture_output=True)
            subprocess.run(["openssl", "rsa", "-in", str(self.root / "sa.key"), "-pubout", "-out",
                            str(self.root / "sa.pub")], check=True, capture_output=True)
        for path, token in ((self.kubeconfig, ADMIN_TOKEN), (self.operator_kubeconfig, OPERATOR_TOKEN)):
            path.write_text(self._kubeconfig(token))

    def _kubeconfig(self, token: str) -> str:
        return f"""apiVersion: v1
kind: Config
clusters:
- name: stack
  cluster:
    server: {self.server}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: {token}
contexts:
- name: stack
  context: {{cluster: stack, user: admin, namespace: default}}
current-context: stack
"""
