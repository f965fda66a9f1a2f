"""gRPC credentials from the TLS directory (core/security.py).

Servers re-read the certificate files when they change, so a certificate that cert-manager renews in
the mounted Secret is served to new connections without a restart. Clients read them once per
channel; their connections are renewed within the servers' maximum connection age anyway.
"""

from __future__ import annotations

import logging
from pathlib import Path

import grpc

from core.security import Security

log = logging.getLogger(__name__)


class _CertificateFiles:
    """Serves the current certificate configuration; a new one only after the files changed."""

    def __init__(self, security: Security) -> None:
        self.security = security
        self._stamp = self._current_stamp()

    def _current_stamp(self) -> tuple[float, ...]:
        return tuple(path.stat().st_mtime for path in self._paths())

    def _paths(self) -> tuple[Path, Path, Path]:
        return self.security.key_file, self.security.cert_file, self.security.ca_file

    def configuration(self) -> grpc.ServerCertificateConfiguration:
        key, cert, ca = (path.read_bytes() for path in self._paths())
        return grpc.ssl_server_certificate_configuration([(key, cert)], root_certificates=ca)

    def changed(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC before each new connection's handshake: None keeps the current one."""
        try:
            stamp = self._current_stamp()
            if stamp == self._stamp:
                return None
            configuration = self.configuration()
        except OSError as exc:  # a Secret update swaps a symlink: a read may race it, retry next time
            log.warning("TLS files unreadable (%s): keeping the certificate in use", exc)
            return None
        self._stamp = stamp
        log.info("TLS certificate files changed: serving the new certificate to new connections")
        return configuration


def server_credentials(security: Security) -> grpc.ServerCredentials:
    files = _CertificateFiles(security)
    return grpc.dynamic_ssl_server_credentials(files.configuration(), files.changed,
                                               require_client_authentication=security.mutual_tls)


def channel_credentials(security: Security) -> grpc.ChannelCredentials:
    """Trust ca.crt only; with mutual TLS present this process's own certificate too."""
    if security.mutual_tls:
        return grpc.ssl_channel_credentials(root_certificates=security.ca_file.read_bytes(),
                                            private_key=security.key_file.read_bytes(),
                                            certificate_chain=security.cert_file.read_bytes())
    return grpc.ssl_channel_credentials(root_certificates=security.ca_file.read_bytes())
