"""Engines, database URLs and schema migrations."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from core.errors import SettingsError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The embedded default: a SQLite file beside the other local outputs; no server needed.
DEFAULT_URL = "sqlite:///artifacts/recsys.db"


SCHEMES = ("sqlite", "postgresql")


def database_url(url: str | None = None) -> str:
    """``url``, else RECSYS_DATABASE_URL, else the embedded SQLite file; SettingsError for anything
    but a SQLite or PostgreSQL URL (the message never repeats the URL: it may hold a password)."""
    url = url or os.environ.get("RECSYS_DATABASE_URL") or DEFAULT_URL
    scheme = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    if scheme not in SCHEMES:
        shown = f"scheme '{scheme}://'" if scheme else "a value without a scheme"
        raise SettingsError(f"unsupported database URL ({shown}): use sqlite:///PATH or "
                            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    return url


def unreachable(error: OperationalError) -> str:
    """One line for a database that cannot be reached (the driver's first line, not its traceback)."""
    return f"the database is unreachable: {str(error.orig or error).splitlines()[0]}"


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]  # psycopg 3, not psycopg2
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)  # a restarted database must not fail the next call
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # same integrity as PostgreSQL
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the stream processor
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def alembic_config(url: str | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Migrate the database at ``url`` to ``revision``; returns the revision it is at afterwards."""
    from alembic import command

    config = alembic_config(url)
    command.upgrade(config, revision)
    return current_revision(url)


def current_revision(url: str | None = None) -> str | None:
    from alembic.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
