"""TLS to the Kafka brokers, one set of settings for every Kafka client of the system (the stream
processor, the embedding service's event reader, the HTTP API's producer, the command line).

Unset, clients speak plain text, as a laptop's broker does. With a CA they connect over TLS and
check the broker's certificate and host name against it (librdkafka's ``https`` endpoint
identification); a certificate and key add a client identity for brokers that require one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import SettingsError
from core.settings import Setting

KAFKA_TLS_SETTINGS = (
    Setting("RECSYS_KAFKA_TLS_CA", "",
            "CA certificate (PEM) of the Kafka brokers: set, Kafka clients use TLS and check the broker's "
            "certificate and name (unset: plain text)"),
    Setting("RECSYS_KAFKA_TLS_CERT", "", "client certificate (PEM) for brokers that require one (mutual TLS)"),
    Setting("RECSYS_KAFKA_TLS_KEY", "", "that certificate's private key (PEM)"),
)


@dataclass(frozen=True)
class KafkaTls:
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KafkaTls:
        """The ``KAFKA_TLS_SETTINGS``; SettingsError names a missing file or a half-given identity."""
        paths = {name: Path(env[name]) if env.get(name) else None
                 for name in ("RECSYS_KAFKA_TLS_CA", "RECSYS_KAFKA_TLS_CERT", "RECSYS_KAFKA_TLS_KEY")}
        for name, path in paths.items():
            if path is not None and not path.is_file():
                raise SettingsError(f"{name}: no such file {path}")
        ca, cert, key = paths.values()
        if (cert is None) != (key is None):
            raise SettingsError("RECSYS_KAFKA_TLS_CERT and RECSYS_KAFKA_TLS_KEY go together (a client identity)")
        if cert is not None and ca is None:
            raise SettingsError("RECSYS_KAFKA_TLS_CERT needs RECSYS_KAFKA_TLS_CA (the broker is verified too)")
        return cls(ca, cert, key)

    @property
    def enabled(self) -> bool:
        return self.ca is not None

    def client_config(self) -> dict[str, str]:
        """librdkafka settings to merge into a producer's, consumer's or admin client's config."""
        if self.ca is None:
            return {}
        config = {"security.protocol": "ssl", "ssl.ca.location": str(self.ca),
                  "ssl.endpoint.identification.algorithm": "https"}
        if self.cert is not None and self.key is not None:
            config |= {"ssl.certificate.location": str(self.cert), "ssl.key.location": str(self.key)}
        return config
