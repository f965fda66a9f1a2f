"""The store against SQLite (embedded default) and a real PostgreSQL: migrations, idempotent
writes, restartable bulk load, Parquet export that training reads, registry, online counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cli.synthetic_traffic import events_from_synthetic
from core.event_types import EventType
from core.interactions import InteractionLog
from store import repository
from store.bulk import events_from_log, export_parquet, load_events
from store.db import current_revision, make_engine, upgrade
from store.tables import Base, ModelStage
from training.data.loaders import load_parquet
from training.data.synthetic import SyntheticConfig, generate


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade(url)
        return url
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="module")
def tiny():
    return generate(SyntheticConfig(n_users=300, n_items=200, seed=3))


def test_migrations_create_exactly_the_models_schema(url):
    assert current_revision(url) == "0001"
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_bulk_load_is_restartable_without_duplicates(url, tiny):
    events = events_from_synthetic(tiny)
    engine = make_engine(url)
    # a first run that stopped after a prefix, then the full run
    half = type(events)(*(getattr(events, f)[: len(events) // 3] for f in events.__dataclass_fields__))
    assert load_events(engine, half, tiny.catalogue, chunk=1000, progress=False) == len(half)
    assert load_events(engine, events, tiny.catalogue, chunk=1000, progress=False) == len(events) - len(half)
    assert load_events(engine, events, tiny.catalogue, chunk=1000, progress=False) == 0
    with engine.connect() as connection:
        assert _count_events(connection) == len(events)
        history = repository.user_history(connection, str(tiny.user_ids[0]), limit=5)
    engine.dispose()
    times = [h.occurred_at for h in history]
    assert times == sorted(times, reverse=True) and len(history) > 0


def test_export_round_trips_into_the_training_loader(url, tiny, tmp_path):
    engine = make_engine(url)
    load_events(engine, events_from_synthetic(tiny), tiny.catalogue, progress=False)
    rows = export_parquet(engine, tmp_path / "all.parquet", progress=False)
    ratings = export_parquet(engine, tmp_path / "ratings.parquet", ["rating"], progress=False)
    engine.dispose()
    assert rows == len(tiny.events)
    loaded = load_parquet(tmp_path / "all.parquet").interactions
    assert len(loaded) == rows and loaded.ratings is None  # event_value is not mistaken for a rating
    assert set(loaded.user_ids.tolist()) == set(tiny.user_ids[np.unique(tiny.events.user_index)].tolist())
    explicit = load_parquet(tmp_path / "ratings.parquet").interactions
    assert len(explicit) == ratings == tiny.events.counts()["rating"]
    assert explicit.ratings.min() >= 1 and explicit.ratings.max() <= 5
    assert not (tmp_path / "all.parquet.partial").exists()


def test_export_of_an_empty_store_says_so(url, tmp_path):
    engine = make_engine(url)
    with pytest.raises(ValueError, match="no interactions"):
        export_parquet(engine, tmp_path / "none.parquet", progress=False)
    engine.dispose()
    assert not (tmp_path / "none.parquet").exists()


def test_loaded_datasets_get_stable_ids_and_a_type():
    log = InteractionLog(np.array(["u1", "u2"]), np.array(["i1", "i2"]), np.array([4.0, 2.0], dtype=np.float32),
                         np.array([1_600_000_000, 1_600_000_100]))
    first = events_from_log(log, "csv:a.csv")
    again = events_from_log(log, "csv:a.csv")
    assert first.event_id.tolist() == again.event_id.tolist()
    assert set(first.event_type.tolist()) == {"rating"}
    with pytest.raises(ValueError):
        events_from_log(log, "csv:a.csv", event_type="like")


def test_insert_events_reports_only_new_rows(url, tiny):
    engine = make_engine(url)
    now = datetime.now(UTC)
    row = {"event_id": "e1", "user_id": "new-user", "item_id": str(tiny.item_ids[0]),
           "event_type": EventType.CLICK, "value": 1.0, "occurred_at": now}
    with engine.begin() as connection:
        repository.upsert_products(connection, [{"item_id": str(tiny.item_ids[0]), "categories": [],
                                                 "attributes": {}}])
        repository.ensure_users(connection, ["new-user"])
        assert repository.insert_events(connection, [row]) == ["e1"]
        assert repository.insert_events(connection, [row, {**row, "event_id": "e2"}]) == ["e2"]
        assert repository.known_products(connection, [str(tiny.item_ids[0]), "nope"]) == {str(tiny.item_ids[0])}
    engine.dispose()


def test_model_registry(url):
    engine = make_engine(url)
    with engine.begin() as connection:
        repository.register_model_version(connection, "amazon", "v1", "lightgcn", "file:///a/v1", {"recall@20": 0.1})
        repository.register_model_version(connection, "amazon", "v2", "lightgcn", "file:///a/v2", {"recall@20": 0.2})
        # registering again updates (stage included), never duplicates
        repository.register_model_version(connection, "amazon", "v1", "lightgcn", "file:///a/v1", {"recall@20": 0.1},
                                          ModelStage.PRODUCTION)
        repository.register_model_version(connection, "amazon", "v2", "lightgcn", "s3://b/v2", {"recall@20": 0.25},
                                          ModelStage.CANARY)
        versions = repository.list_model_versions(connection, "amazon")
    engine.dispose()
    assert [(v["version"], v["stage"], v["artifact_uri"]) for v in versions] == [
        ("v1", "production", "file:///a/v1"), ("v2", "canary", "s3://b/v2")]
    assert versions[1]["metrics"] == {"recall@20": 0.25}


def test_online_counts_accumulate_per_window(url):
    engine = make_engine(url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    window = {"model_version": "v1", "window_start": start, "window_end": start + timedelta(seconds=10),
              "impressions": 10, "clicks": 2, "add_to_carts": 1, "purchases": 0}
    with engine.begin() as connection:
        repository.add_online_counts(connection, [window])
        repository.add_online_counts(connection, [{**window, "impressions": 5, "clicks": 1}])
        repository.add_online_counts(connection, [{**window, "model_version": "v2"}])
        totals = repository.online_totals(connection, "v1", start - timedelta(seconds=1))
        other = repository.online_totals(connection, "v2", start - timedelta(seconds=1))
        later = repository.online_totals(connection, "v1", start + timedelta(seconds=10))
    engine.dispose()
    assert totals == {"impressions": 15, "clicks": 3, "add_to_carts": 2, "purchases": 0}
    assert other == {"impressions": 10, "clicks": 2, "add_to_carts": 1, "purchases": 0}
    assert later == {"impressions": 0, "clicks": 0, "add_to_carts": 0, "purchases": 0}


def _count_events(connection) -> int:
    from sqlalchemy import func, select

    from store.tables import Interaction

    return int(connection.scalar(select(func.count()).select_from(Interaction)))


def test_copy_text_escapes_what_postgresql_copy_reads_as_structure():
    from store.bulk import _copy_text

    assert _copy_text("a\rb\tc\nd\\e") == "a\\rb\\tc\\nd\\\\e"  # a raw \r ended the row mid-way
