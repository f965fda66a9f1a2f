"""`recsys operator`: run the kopf operator (settings: see settings.py; RECSYS_OPERATOR_NAMESPACES is a
comma-separated list of namespaces to serve, empty for the whole cluster)."""

from __future__ import annotations

import logging
import os

import kopf


def main() -> None:
    import recsys_operator.handlers  # noqa: F401 - registers the handlers

    namespaces = [n for n in os.environ.get("RECSYS_OPERATOR_NAMESPACES", "").split(",") if n]
    kopf.configure(verbose=os.environ.get("RECSYS_LOG_LEVEL", "INFO").upper() == "DEBUG")
    # the state-machine timer runs every few seconds: its routine success is noise, its failures are not
    logging.getLogger("kopf.objects").addFilter(
        lambda record: not record.getMessage().startswith("Timer 'advance' succeeded"))
    kopf.run(namespaces=namespaces, clusterwide=not namespaces,
             liveness_endpoint=os.environ.get("RECSYS_OPERATOR_LIVENESS") or None)


if __name__ == "__main__":
    main()
