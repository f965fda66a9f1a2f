"""The queries and idempotent writes the services run against the store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.event_types import EventType
from store.tables import Interaction, ModelStage, ModelVersion, OnlineMetricWindow, Product, User


def _insert(connection: Connection, table: Table):
    """INSERT with ON CONFLICT support for the connection's dialect."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the store supports PostgreSQL and SQLite, not {dialect}")


def ensure_users(connection: Connection, user_ids: Iterable[str]) -> None:
    rows = [{"user_id": u} for u in sorted(set(user_ids))]
    if rows:
        connection.execute(_insert(connection, User.__table__).on_conflict_do_nothing(), rows)


def upsert_products(connection: Connection, products: Sequence[dict[str, Any]]) -> None:
    """Insert products; existing ones keep their row (a reload does not rewrite the catalogue)."""
    if products:
        connection.execute(_insert(connection, Product.__table__).on_conflict_do_nothing(), list(products))


def known_products(connection: Connection, item_ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(item_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 5000):  # keep IN lists and SQLite variables bounded
        chunk = wanted[start:start + 5000]
        found.update(connection.scalars(select(Product.item_id).where(Product.item_id.in_(chunk))))
    return found


def insert_events(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert interactions, skipping event ids already stored; returns the ids that were new.

    The unique event id makes a replayed batch (after a crash before the offset commit) a no-op.
    """
    if not rows:
        return []
    statement = (_insert(connection, Interaction.__table__).on_conflict_do_nothing(index_elements=["event_id"])
                 .returning(Interaction.__table__.c.event_id))
    return list(connection.scalars(statement, list(rows)))


EVENT_COLUMNS = ("event_id", "user_id", "item_id", "event_type", "value", "occurred_at", "session_id", "model_version")


def store_events(connection: Connection, rows: Sequence[tuple]) -> tuple[list[str], set[str]]:
    """The stream processor's write: create unseen users, insert the events whose product exists,
    skip event ids already stored. ``rows`` are tuples in EVENT_COLUMNS order (event_type as its
    string value). Returns (ids that were new, item ids not in the catalogue)."""
    if not rows:
        return [], set()
    if connection.dialect.name == "postgresql":
        return _store_events_copy(connection, rows)
    items = {r[2] for r in rows}
    unknown = items - known_products(connection, items)
    storable = [dict(zip(EVENT_COLUMNS, r)) for r in rows if r[2] not in unknown]
    for row in storable:
        row["event_type"] = EventType(row["event_type"])
    ensure_users(connection, (r["user_id"] for r in storable))
    return insert_events(connection, storable), unknown


def stored_events(connection: Connection, event_ids: Iterable[str]) -> dict[str, tuple[str, str, str, float]]:
    """(user_id, item_id, event_type, value) of the given events that are stored, by event id."""
    ids = list(set(event_ids))
    found: dict[str, tuple[str, str, str, float]] = {}
    for start in range(0, len(ids), 1000):
        rows = connection.execute(select(Interaction.event_id, Interaction.user_id, Interaction.item_id,
                                         Interaction.event_type, Interaction.value)
                                  .where(Interaction.event_id.in_(ids[start:start + 1000])))
        for event_id, user, item, kind, value in rows:
            found[event_id] = (user, item, EventType(kind).value, float(value))
    return found


def _store_events_copy(connection: Connection, rows: Sequence[tuple]) -> tuple[list[str], set[str]]:
    """PostgreSQL: COPY the batch into a session temp table and let set-based statements do the rest
    (several times faster than a multi-row INSERT built and parsed client-side)."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_events (event_id text, user_id text, item_id text, "
            "event_type event_type, value float8, occurred_at timestamptz, session_id text, model_version text) "
            "ON COMMIT DELETE ROWS")
        with cursor.copy(f"COPY incoming_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("SELECT DISTINCT i.item_id FROM incoming_events i "
                       "WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.item_id = i.item_id)")
        unknown = {r[0] for r in cursor.fetchall()}
        cursor.execute("INSERT INTO users (user_id) SELECT DISTINCT i.user_id FROM incoming_events i "
                       "JOIN products p ON p.item_id = i.item_id ON CONFLICT DO NOTHING")
        columns = ", ".join(EVENT_COLUMNS)
        cursor.execute(
            f"INSERT INTO interactions ({columns}) "
            f"SELECT DISTINCT ON (i.event_id) {', '.join('i.' + c for c in EVENT_COLUMNS)} FROM incoming_events i "
            "JOIN products p ON p.item_id = i.item_id ORDER BY i.event_id "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id")
        inserted = [r[0] for r in cursor.fetchall()]
    finally:
        cursor.close()
    return inserted, unknown


def user_history(connection: Connection, user_id: str, limit: int = 50,
                 before: datetime | None = None) -> list[Interaction]:
    """The user's interactions, newest first."""
    query = select(Interaction).where(Interaction.user_id == user_id)
    if before is not None:
        query = query.where(Interaction.occurred_at < before)
    query = query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit)
    with Session(bind=connection) as session:
        return list(session.scalars(query))


# ----------------------------------------------------------------------------- model registry


def register_model_version(connection: Connection, name: str, version: str, model_type: str,
                           artifact_uri: str, metrics: dict[str, float],
                           stage: ModelStage = ModelStage.CANDIDATE) -> None:
    """Record a trained version; registering the same (name, version) again updates it."""
    values = {"name": name, "version": version, "model_type": model_type, "artifact_uri": artifact_uri,
              "metrics": metrics, "stage": stage}
    statement = _insert(connection, ModelVersion.__table__).values(**values)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["name", "version"],
        set_={"model_type": model_type, "artifact_uri": artifact_uri, "metrics": metrics, "stage": stage}))


def registered_versions(connection: Connection) -> set[str]:
    """Every model version the registry knows, whatever its model or stage."""
    return set(connection.scalars(select(ModelVersion.version).distinct()))


def list_model_versions(connection: Connection, name: str | None = None) -> list[dict[str, Any]]:
    query = select(ModelVersion).order_by(ModelVersion.name, ModelVersion.created_at, ModelVersion.id)
    if name is not None:
        query = query.where(ModelVersion.name == name)
    with Session(bind=connection) as session:
        return [{"name": m.name, "version": m.version, "model_type": m.model_type,
                 "artifact_uri": m.artifact_uri, "metrics": dict(m.metrics or {}), "stage": m.stage.value,
                 "created_at": m.created_at} for m in session.scalars(query)]


# ----------------------------------------------------------------------------- online metrics


COUNTERS = ("impressions", "clicks", "add_to_carts", "purchases")


def add_online_counts(connection: Connection, windows: Sequence[dict[str, Any]]) -> None:
    """Add counts to (model_version, window_start) rows, creating them as needed."""
    table = OnlineMetricWindow.__table__
    for window in windows:
        statement = _insert(connection, table).values(**window)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["model_version", "window_start"],
            set_={name: table.c[name] + statement.excluded[name] for name in COUNTERS}))


def online_totals(connection: Connection, model_version: str, since: datetime) -> dict[str, int]:
    """Summed counts of one version's windows that ended after ``since`` (the rollout analysis window)."""
    t = OnlineMetricWindow
    row = connection.execute(
        select(func.coalesce(func.sum(t.impressions), 0), func.coalesce(func.sum(t.clicks), 0),
               func.coalesce(func.sum(t.add_to_carts), 0), func.coalesce(func.sum(t.purchases), 0))
        .where(t.model_version == model_version, t.window_end > since)).one()
    return {"impressions": int(row[0]), "clicks": int(row[1]), "add_to_carts": int(row[2]),
            "purchases": int(row[3])}
