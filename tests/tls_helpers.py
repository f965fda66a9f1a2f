"""Test helper: a certificate authority and certificates made with the openssl command line, laid
out as a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) for RECSYS_TLS_DIR."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_tls_dir(root: Path, name: str, ca_name: str = "recsys-test-ca",
                 hosts: tuple[str, ...] = ("localhost",), ips: tuple[str, ...] = ("127.0.0.1",)) -> Path:
    """``root/name`` holding a key and certificate for ``hosts``/``ips`` (server and client use),
    signed by the CA ``root/ca_name`` (made on first use), and that CA's certificate."""
    assert shutil.which("openssl"), "the openssl command is needed to make test certificates"
    ca = root / ca_name
    if not (ca / "ca.crt").exists():
        ca.mkdir(parents=True)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={ca_name}",
                 "-keyout", "ca.key", "-out", "ca.crt", cwd=ca)
    out = root / name
    out.mkdir(parents=True)
    san = ",".join([f"DNS:{h}" for h in hosts] + [f"IP:{ip}" for ip in ips])
    (out / "ext.cnf").write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\n"
                                 "basicConstraints=CA:FALSE\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", "tls.key", "-out", "tls.csr",
             cwd=out)
    _openssl("x509", "-req", "-in", "tls.csr", "-CA", str(ca / "ca.crt"), "-CAkey", str(ca / "ca.key"),
             "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "tls.crt", cwd=out)
    shutil.copy(ca / "ca.crt", out / "ca.crt")
    for leftover in ("tls.csr", "ext.cnf"):
        (out / leftover).unlink()
    return out
