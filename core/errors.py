"""Domain errors: raised by any layer, turned into gRPC status codes (and HTTP codes) at the edge."""

from __future__ import annotations


class InvalidRequest(ValueError):
    """The request itself is wrong (bad k, empty or oversized id, malformed vector...)."""


class NotFound(LookupError):
    """The request names something that does not exist (e.g. an unknown product)."""


class UnknownIdError(NotFound, KeyError):
    """A user or item id the model was not trained on."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


class Unavailable(RuntimeError):
    """The service cannot answer yet (no model loaded) or any more (shutting down)."""


class SettingsError(ValueError):
    """A setting (environment variable, flag, config file entry) is missing or malformed; the
    message names it."""


class PortInUse(SettingsError):
    """A server's port is taken: another server runs there (or a previous one has not exited)."""


class ArtifactError(ValueError):
    """A directory is not a usable model artifact (no manifest, unknown format, a part missing)."""
