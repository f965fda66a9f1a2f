"""`recsys operator`: run the kopf operator with settings built once by the caller (settings.py;
the CLI reads them from the environment and an optional ``--config`` file)."""

from __future__ import annotations

import logging
import os
import sys

import kopf

from core.errors import SettingsError
from recsys_operator import handlers
from recsys_operator.settings import OperatorSettings


def main(settings: OperatorSettings) -> None:
    registry = handlers.register(kopf.OperatorRegistry(), settings)
    kopf.configure(verbose=settings.log_level == "DEBUG")
    # the state-machine timer runs every few seconds: its routine success is noise, its failures are not
    logging.getLogger("kopf.objects").addFilter(
        lambda record: not record.getMessage().startswith("Timer 'advance' succeeded"))
    kopf.run(registry=registry, memo=kopf.Memo(settings=settings), namespaces=list(settings.namespaces),
             clusterwide=not settings.namespaces, liveness_endpoint=settings.liveness)


if __name__ == "__main__":
    try:
        operator_settings = OperatorSettings.from_env(os.environ)
    except SettingsError as error:
        sys.exit(f"recsys operator: error: {error}")
    main(operator_settings)
