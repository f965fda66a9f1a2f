"""A user's interaction history, read from the store for ListUserInteractions."""

from __future__ import annotations

import asyncio
from datetime import timezone

from sqlalchemy.exc import OperationalError

from recsys.v1 import common_pb2
from services.common.errors import InvalidRequest, Unavailable
from services.events.codec import TYPE_CODES
from services.store import repository
from services.store.db import make_engine

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class HistoryStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, pool_size=4) if not url.startswith("sqlite") else make_engine(url)

    async def recent(self, user_id: str, limit: int) -> list[common_pb2.Interaction]:
        if limit < 0:
            raise InvalidRequest(f"limit must not be negative, got {limit}")
        if limit > MAX_LIMIT:
            raise InvalidRequest(f"limit must be at most {MAX_LIMIT}, got {limit}")
        # the database driver blocks: keep it off the event loop that serves Recommend
        return await asyncio.to_thread(self._query, user_id, limit or DEFAULT_LIMIT)

    def _query(self, user_id: str, limit: int) -> list[common_pb2.Interaction]:
        try:
            with self.engine.connect() as connection:
                rows = repository.user_history(connection, user_id, limit)
        except OperationalError as exc:
            raise Unavailable(f"the interaction store is unreachable: {str(exc.orig).splitlines()[0]}") from None
        out = []
        for row in rows:
            interaction = common_pb2.Interaction(item_id=row.item_id, type=TYPE_CODES[row.event_type], value=row.value)
            at = row.occurred_at if row.occurred_at.tzinfo else row.occurred_at.replace(tzinfo=timezone.utc)
            interaction.time.FromDatetime(at)
            out.append(interaction)
        return out

    def close(self) -> None:
        self.engine.dispose()
