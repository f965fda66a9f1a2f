"""Transport security and caller authentication settings, shared by every listener and client.

TLS material comes from one directory laid out as a Kubernetes ``kubernetes.io/tls`` Secret (what
cert-manager writes): ``tls.crt``, ``tls.key`` and ``ca.crt``. Bearer tokens come from a Secret too
(``RECSYS_AUTH_TOKENS``, comma-separated so that a new token can be rolled out before the old one is
withdrawn); the first is the one this process presents when it calls another service.
Unset, everything is plain text and open: the local default, which every server says at startup.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.env import env_switch
from core.errors import SettingsError
from core.settings import Setting

CERT_FILE, KEY_FILE, CA_FILE = "tls.crt", "tls.key", "ca.crt"
MIN_TOKEN_LENGTH = 16  # a guessable token is no credential

SECURITY_SETTINGS = (
    Setting("RECSYS_TLS_DIR", "",
            "directory with tls.crt, tls.key and ca.crt (a kubernetes.io/tls Secret, e.g. from cert-manager): "
            "every gRPC, HTTP and metrics listener serves TLS and every client verifies against ca.crt "
            "(unset: plain text)"),
    Setting("RECSYS_MTLS", "off", "on: gRPC servers require a client certificate signed by ca.crt, and clients "
            "present tls.crt (mutual TLS between the gateway and its backends)"),
    Setting("RECSYS_AUTH_TOKENS", "",
            "bearer tokens accepted for writes (RecordInteractions, BatchRecordInteractions, POST /events), "
            "comma-separated; the first is sent on this process's own calls (unset: writes are open)"),
    Setting("RECSYS_AUTH_READS", "open", "token: reads need a token too; open: anyone who reaches the port may read"),
)


@dataclass(frozen=True)
class Security:
    tls_dir: Path | None = None
    mutual_tls: bool = False
    tokens: tuple[str, ...] = field(default=(), repr=False)  # never in logs or reprs
    protect_reads: bool = False

    @property
    def tls(self) -> bool:
        return self.tls_dir is not None

    @property
    def cert_file(self) -> Path:
        return self.tls_dir / CERT_FILE

    @property
    def key_file(self) -> Path:
        return self.tls_dir / KEY_FILE

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / CA_FILE

    @property
    def writes_need_token(self) -> bool:
        return bool(self.tokens)

    @property
    def reads_need_token(self) -> bool:
        return self.protect_reads and bool(self.tokens)

    def authorized(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value carries one of the tokens (compared in
        constant time, so response timing does not leak a token's prefix)."""
        if not authorization or not self.tokens:
            return False
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        presented_bytes = presented.strip().encode()
        return any(hmac.compare_digest(presented_bytes, token.encode()) for token in self.tokens)

    def authorization(self) -> str | None:
        """The header value this process sends on its own calls, if it has a token."""
        return f"Bearer {self.tokens[0]}" if self.tokens else None

    def describe(self) -> str:
        """One line for startup logs: what is protected and what is not."""
        transport = ("mutual TLS" if self.mutual_tls else "TLS") if self.tls else \
            "PLAIN TEXT (no RECSYS_TLS_DIR: anyone on the network path can read and alter calls)"
        if not self.tokens:
            auth = "writes OPEN (no RECSYS_AUTH_TOKENS: any caller may record events)"
        else:
            auth = "writes need a bearer token, reads " + ("too" if self.protect_reads else "are open")
        return f"{transport}; {auth}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Security:
        tls_dir = Path(env["RECSYS_TLS_DIR"]) if env.get("RECSYS_TLS_DIR") else None
        mutual = env_switch(env, "RECSYS_MTLS")
        if tls_dir is not None:
            for name in (CERT_FILE, KEY_FILE, CA_FILE):
                if not (tls_dir / name).is_file():
                    raise SettingsError(f"RECSYS_TLS_DIR {tls_dir} has no {name} (expected tls.crt, tls.key and "
                                        "ca.crt, as in a kubernetes.io/tls Secret)")
        elif mutual:
            raise SettingsError("RECSYS_MTLS=on needs RECSYS_TLS_DIR (the certificates to present and trust)")
        tokens = tuple(t.strip() for t in env.get("RECSYS_AUTH_TOKENS", "").split(",") if t.strip())
        for token in tokens:
            if len(token) < MIN_TOKEN_LENGTH:
                raise SettingsError(f"RECSYS_AUTH_TOKENS: every token needs at least {MIN_TOKEN_LENGTH} "
                                    f"characters (one has {len(token)})")
            if any(ch.isspace() or not ch.isprintable() for ch in token):
                raise SettingsError("RECSYS_AUTH_TOKENS: a token may not contain spaces or control characters")
        reads = env.get("RECSYS_AUTH_READS", "open").strip().lower() or "open"
        if reads not in ("open", "token"):
            raise SettingsError(f"RECSYS_AUTH_READS must be open or token, got '{reads}'")
        if reads == "token" and not tokens:
            raise SettingsError("RECSYS_AUTH_READS=token needs RECSYS_AUTH_TOKENS")
        return cls(tls_dir=tls_dir, mutual_tls=mutual, tokens=tokens, protect_reads=reads == "token")
