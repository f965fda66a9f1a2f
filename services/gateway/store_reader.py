"""The gateway's read-only view of the store: users' interaction histories (ListUserInteractions)
and the model registry (ListModels). The database driver blocks, so every query runs in a worker
thread, off the event loop that serves Recommend."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from core.errors import InvalidRequest, Unavailable
from events.codec import TYPE_CODES
from recsys.v1 import common_pb2
from store import repository
from store.db import make_engine, unreachable
from store.tables import ModelStage

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    model_type: str
    artifact_uri: str
    metrics: dict[str, float]
    stage: str  # store.tables.ModelStage value
    created_at: datetime  # UTC


class StoreReader:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, pool_size=4) if not url.startswith("sqlite") else make_engine(url)

    async def recent(self, user_id: str, limit: int) -> list[common_pb2.Interaction]:
        if limit < 0:
            raise InvalidRequest(f"limit must not be negative, got {limit}")
        if limit > MAX_LIMIT:
            raise InvalidRequest(f"limit must be at most {MAX_LIMIT}, got {limit}")
        return await asyncio.to_thread(self._query, user_id, limit or DEFAULT_LIMIT)

    async def model_versions(self, include_archived: bool) -> list[RegisteredVersion]:
        """Registered versions, newest first (archived ones only when asked for)."""
        rows = await asyncio.to_thread(self._read, repository.list_model_versions)
        versions = [RegisteredVersion(row["name"], row["version"], row["model_type"], row["artifact_uri"],
                                      {k: float(v) for k, v in row["metrics"].items() if isinstance(v, (int, float))},
                                      row["stage"], _utc(row["created_at"])) for row in rows]
        versions.sort(key=lambda v: v.created_at, reverse=True)
        return [v for v in versions if include_archived or v.stage != ModelStage.ARCHIVED.value]

    def _read(self, query, *args):
        try:
            with self.engine.connect() as connection:
                return query(connection, *args)
        except OperationalError as error:
            raise Unavailable(unreachable(error)) from None

    def _query(self, user_id: str, limit: int) -> list[common_pb2.Interaction]:
        rows = self._read(repository.user_history, user_id, limit)
        out = []
        for row in rows:
            interaction = common_pb2.Interaction(item_id=row.item_id, type=TYPE_CODES[row.event_type], value=row.value)
            interaction.time.FromDatetime(_utc(row.occurred_at))
            out.append(interaction)
        return out

    def close(self) -> None:
        self.engine.dispose()


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
