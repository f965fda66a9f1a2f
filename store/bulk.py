"""Bulk load a dataset into the store and export interactions to Parquet for training.

Both are restartable: loading is chunked, each chunk one transaction with ON CONFLICT DO NOTHING
on deterministic event ids (a rerun after a crash adds only what is missing); the export writes a
temporary file and renames it into place.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select, text
from tqdm import tqdm

from core.catalogue import ItemCatalogue
from core.event_types import EventType
from core.interactions import InteractionLog
from store import repository
from store.tables import Interaction

CHUNK = 50_000


@dataclass(frozen=True)
class EventColumns:
    """Events as parallel arrays: what a bulk load writes."""

    event_id: np.ndarray  # str
    user_id: np.ndarray  # str
    item_id: np.ndarray  # str
    event_type: np.ndarray  # str, EventType values
    value: np.ndarray  # float
    timestamp: np.ndarray  # int64 unix seconds

    def __len__(self) -> int:
        return len(self.event_id)


def events_from_log(log: InteractionLog, source: str, event_type: str | None = None) -> EventColumns:
    """A dataset's interactions as events: ``rating`` when it has ratings, else ``event_type`` (view);
    ``source`` names the data so that reloading it yields the same event ids."""
    kind = event_type or (EventType.RATING.value if log.ratings is not None else EventType.VIEW.value)
    EventType(kind)  # a clear error for an unknown type
    n = len(log)
    # Deterministic ids: the same file loads to the same ids, so a rerun cannot duplicate rows.
    tag = hashlib.sha1(source.encode()).hexdigest()[:10]
    ids = np.char.add(f"load:{tag}:", np.arange(n).astype(str))
    values = log.ratings.astype(np.float64) if log.ratings is not None else np.ones(n)
    stamps = log.timestamps if log.timestamps is not None else np.zeros(n, dtype=np.int64)
    return EventColumns(ids, log.user_ids, log.item_ids, np.full(n, kind), values, stamps)


def product_rows(item_ids: np.ndarray, catalogue: ItemCatalogue | None) -> list[dict]:
    catalogue = catalogue or ItemCatalogue()
    rows = []
    for item in np.unique(item_ids).tolist():
        rows.append({"item_id": item, "title": catalogue.titles.get(item),
                     "categories": catalogue.categories.get(item, []), "brand": catalogue.brands.get(item),
                     "price": catalogue.prices.get(item), "attributes": {}})
    return rows


def load_events(engine: Engine, events: EventColumns, catalogue: ItemCatalogue | None = None,
                chunk: int = CHUNK, progress: bool = True) -> int:
    """Write products, users and events; returns how many events were new."""
    with engine.begin() as connection:
        products = product_rows(events.item_id, catalogue)
        for start in range(0, len(products), chunk):
            repository.upsert_products(connection, products[start:start + chunk])
        users = np.unique(events.user_id).tolist()
        for start in range(0, len(users), chunk):
            repository.ensure_users(connection, users[start:start + chunk])
    inserted = 0
    bar = tqdm(total=len(events), unit="ev", desc="loading events", disable=not progress, mininterval=1.0)
    for start in range(0, len(events), chunk):
        stop = min(start + chunk, len(events))
        with engine.begin() as connection:  # one transaction per chunk: a crash loses at most one
            if connection.dialect.name == "postgresql":
                inserted += _copy_chunk(connection, events, start, stop)
            else:
                inserted += len(repository.insert_events(connection, list(_rows(events, start, stop))))
        bar.update(stop - start)
    bar.close()
    return inserted


def _rows(events: EventColumns, start: int, stop: int) -> Iterator[dict]:
    for eid, user, item, kind, value, ts in zip(
            events.event_id[start:stop].tolist(), events.user_id[start:stop].tolist(),
            events.item_id[start:stop].tolist(), events.event_type[start:stop].tolist(),
            events.value[start:stop].tolist(), events.timestamp[start:stop].tolist()):
        yield {"event_id": eid, "user_id": user, "item_id": item, "event_type": EventType(kind),
               "value": float(value), "occurred_at": datetime.fromtimestamp(int(ts), UTC)}


def _copy_chunk(connection, events: EventColumns, start: int, stop: int) -> int:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING."""
    raw = connection.connection.dbapi_connection
    connection.execute(text(
        "CREATE TEMP TABLE IF NOT EXISTS load_events (event_id text, user_id text, item_id text, "
        "event_type text, value float8, occurred_at timestamptz) ON COMMIT DELETE ROWS"))
    buffer = io.StringIO()
    for eid, user, item, kind, value, ts in zip(
            events.event_id[start:stop].tolist(), events.user_id[start:stop].tolist(),
            events.item_id[start:stop].tolist(), events.event_type[start:stop].tolist(),
            events.value[start:stop].tolist(), events.timestamp[start:stop].tolist()):
        buffer.write(f"{_copy_text(eid)}\t{_copy_text(user)}\t{_copy_text(item)}\t{kind}\t{value!r}\t"
                     f"{datetime.fromtimestamp(int(ts), UTC).isoformat()}\n")
    with raw.cursor() as cursor, cursor.copy("COPY load_events FROM STDIN") as copy:
        copy.write(buffer.getvalue())
    result = connection.execute(text(
        "INSERT INTO interactions (event_id, user_id, item_id, event_type, value, occurred_at) "
        "SELECT event_id, user_id, item_id, event_type::event_type, value, occurred_at FROM load_events "
        "ON CONFLICT (event_id) DO NOTHING"))
    return int(result.rowcount)


def _copy_text(value: str) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def export_parquet(engine: Engine, out: str | os.PathLike[str], event_types: list[str] | None = None,
                   batch: int = 100_000, progress: bool = True) -> int:
    """Write interactions (oldest first) as Parquet that `recsys train --format parquet` reads.

    Columns: user_id, item_id, timestamp (unix seconds), event_type, event_value; plus ``rating``
    when only rating events are exported, so training can use explicit feedback.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = [EventType(k) for k in event_types] if event_types else None
    explicit = kinds == [EventType.RATING]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    t = Interaction
    query = select(t.user_id, t.item_id, t.occurred_at, t.event_type, t.value).order_by(t.id)
    if kinds:
        query = query.where(t.event_type.in_(kinds))
    written = 0
    schema = pa.schema([("user_id", pa.string()), ("item_id", pa.string()), ("timestamp", pa.int64()),
                        ("event_type", pa.string()), ("event_value", pa.float64())]
                       + ([("rating", pa.float64())] if explicit else []))
    bar = tqdm(unit="ev", desc="exporting", disable=not progress, mininterval=1.0)
    with engine.connect() as connection, pq.ParquetWriter(partial, schema) as writer:
        result = connection.execution_options(stream_results=True, yield_per=batch).execute(query)
        for rows in result.partitions():
            users, items, stamps, kinds_, values = zip(*rows)
            columns = {"user_id": list(users), "item_id": list(items),
                       "timestamp": [int(_utc(ts).timestamp()) for ts in stamps],
                       "event_type": [k.value for k in kinds_], "event_value": list(values)}
            if explicit:
                columns["rating"] = list(values)
            writer.write_table(pa.table(columns, schema=schema))
            written += len(rows)
            bar.update(len(rows))
    bar.close()
    if written == 0:
        partial.unlink(missing_ok=True)
        raise ValueError("the store has no interactions to export" + (f" of types {event_types}" if kinds else ""))
    partial.replace(out)
    return written


def _utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
