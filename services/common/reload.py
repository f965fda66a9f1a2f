"""Hot model reload: poll the artifact's manifest and swap in a new version without dropping a call.

The artifact path is typically a symlink (``current -> v42``) that a deployment flips. Each check
resolves the link once and loads everything from that resolved directory, so a flip in the middle
of a load can never mix two versions. Loading runs in a worker thread; installing is one assignment
in the servicer, so in-flight calls finish on the old model and the next ones use the new one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from core.artifact import artifact_version

log = logging.getLogger(__name__)


async def watch_artifact(artifact: Path, loaded_version: str | None, load: Callable[[Path], object],
                         install: Callable[[object], None], interval_s: float,
                         on_error: Callable[[Exception], None] | None = None,
                         after_install: Callable[[], object] | None = None) -> None:
    """Forever: every ``interval_s``, load and install the artifact when its version changed, then
    call ``after_install`` (services/common/heap.py's freeze, for one).

    A version that fails to load is logged and skipped (the old model keeps serving) until the
    manifest names another one.
    """
    current, failed = loaded_version, None
    while True:
        await asyncio.sleep(interval_s)
        resolved = artifact.resolve()
        version = artifact_version(resolved)
        if version is None or version in (current, failed):
            continue
        try:
            model = await asyncio.to_thread(load, resolved)
        except Exception as error:  # noqa: BLE001 - a bad artifact must not take the service down
            failed = version
            log.error("could not load version %s from %s: %s; still serving %s", version, resolved, error, current)
            if on_error:
                on_error(error)
            continue
        install(model)
        del model  # the loaded object lives on in the servicer only: after_install may collect garbage
        if after_install is not None:
            after_install()
        log.info("now serving version %s (was %s)", version, current)
        current, failed = version, None
