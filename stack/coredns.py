"""CoreDNS, built from its Go module (stack/coredns/go.mod) once into the cache: the local cluster's
DNS server (stack/cluster.py runs it on the node, behind the kube-dns Service)."""

from __future__ import annotations

from pathlib import Path

from stack.gobuild import go_build
from stack.process import CACHE_DIR

HERE = Path(__file__).resolve().parent / "coredns"
COREDNS_VERSION = "v1.12.4"  # keep in step with coredns/go.mod


def coredns_binary() -> Path:
    binary = CACHE_DIR / f"coredns-{COREDNS_VERSION}" / "bin" / "coredns"
    return binary if binary.exists() else go_build(HERE, "github.com/coredns/coredns", binary)
