"""`recsys db|data|events|stream` subcommands (registered by cli.main)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

from core.settings import effective_environment, settings_help


def register(sub: argparse._SubParsersAction, add_data_args, data_spec, positive_int) -> None:
    p = sub.add_parser("db", help="database schema (Alembic migrations)")
    db = p.add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="migrate the store to the newest schema")
    up.add_argument("--url", help="database URL (default: RECSYS_DATABASE_URL, else the embedded SQLite file)")
    up.add_argument("--revision", default="head")
    up.set_defaults(handler=_store_command(_cmd_db_upgrade))

    p = sub.add_parser("data", help="bulk-load a dataset into the store, or export interactions")
    data = p.add_subparsers(dest="data_command", required=True)
    load = data.add_parser("load", help="load users, products and interactions (restartable, no duplicates)")
    load.add_argument("--url", help="database URL (default: RECSYS_DATABASE_URL, else the embedded SQLite file)")
    load.add_argument("--event-type", help="event type for datasets without types (default: rating when "
                                          "the data has ratings, else view)")
    load.add_argument("--chunk", type=positive_int, default=50_000, help="events per transaction")
    add_data_args(load)
    load.set_defaults(handler=_store_command(lambda args: _cmd_data_load(args, data_spec(args))))
    export = data.add_parser("export", help="write interactions to Parquet for training")
    export.add_argument("--url", help="database URL")
    export.add_argument("--out", required=True, type=Path)
    export.add_argument("--event-types", help="comma-separated types to export (default: all)")
    export.set_defaults(handler=_store_command(_cmd_data_export))

    p = sub.add_parser("events", help="Kafka topics and event producers")
    events = p.add_subparsers(dest="events_command", required=True)
    topics = events.add_parser("topics", help="create the events, dead-letter and online-metrics topics")
    topics.add_argument("--bootstrap", default=os.environ.get("RECSYS_KAFKA_BOOTSTRAP"))
    topics.add_argument("--partitions", type=positive_int, default=6)
    topics.add_argument("--replication", type=positive_int, default=1)
    topics.set_defaults(handler=_cmd_topics)
    produce = events.add_parser("produce", help="send synthetic user events (the generator's funnel)")
    produce.add_argument("--bootstrap", default=os.environ.get("RECSYS_KAFKA_BOOTSTRAP"))
    produce.add_argument("--users", type=positive_int, default=100_000)
    produce.add_argument("--items", type=positive_int, default=50_000)
    produce.add_argument("--count", type=positive_int, default=100_000, help="events to send")
    produce.add_argument("--rate", type=float, help="events per second (default: as fast as possible)")
    produce.add_argument("--model-versions", default="", help="comma-separated versions to attribute events to")
    produce.add_argument("--seed", type=int, default=0)
    produce.set_defaults(handler=_cmd_produce)

    from stream.settings import SETTINGS as STREAM_SETTINGS

    p = sub.add_parser("stream", help="run the stream processor (settings: RECSYS_* environment variables, see --help)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=settings_help("stream processor settings", STREAM_SETTINGS))
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="TOML file of RECSYS_* settings (the environment overrides it)")
    p.set_defaults(handler=_cmd_stream)


def _store_command(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A database that cannot be reached is one line for the user, not a driver traceback."""

    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import OperationalError

        from store.db import unreachable

        try:
            return handler(args)
        except OperationalError as error:
            raise ConnectionError(unreachable(error)) from None

    return run


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from store.db import database_url, upgrade

    revision = upgrade(args.url, args.revision)
    print(f"{database_url(args.url).split('@')[-1]}: schema at revision {revision}")
    return 0


def _cmd_data_load(args: argparse.Namespace, spec) -> int:
    from cli.synthetic_traffic import events_from_synthetic
    from store.bulk import events_from_log, load_events
    from store.db import make_engine, upgrade
    from training.data import synthetic
    from training.data.sources import load_source

    upgrade(args.url)
    if spec.format == "synthetic" or (spec.format == "auto" and spec.path == "synthetic"):
        data = synthetic.generate(synthetic.SyntheticConfig(n_users=spec.synthetic_users,
                                                            n_items=spec.synthetic_items, seed=spec.seed))
        events, catalogue = events_from_synthetic(data), data.catalogue
    else:
        loaded = load_source(spec)
        events, catalogue = events_from_log(loaded.interactions, loaded.source, args.event_type), loaded.catalogue
    engine = make_engine(args.url)
    try:
        new = load_events(engine, events, catalogue, chunk=args.chunk)
    finally:
        engine.dispose()
    print(json.dumps({"events": len(events), "new": new, "already_stored": len(events) - new}))
    return 0


def _cmd_data_export(args: argparse.Namespace) -> int:
    from store.bulk import export_parquet
    from store.db import make_engine

    kinds = [k.strip() for k in args.event_types.split(",") if k.strip()] if args.event_types else None
    engine = make_engine(args.url)
    try:
        rows = export_parquet(engine, args.out, kinds)
    finally:
        engine.dispose()
    print(json.dumps({"rows": rows, "out": str(args.out)}))
    return 0


def _require_bootstrap(args: argparse.Namespace) -> str:
    if not args.bootstrap:
        raise ValueError("no Kafka: pass --bootstrap host:port or set RECSYS_KAFKA_BOOTSTRAP")
    return args.bootstrap


def _kafka_tls() -> dict[str, str]:
    from events.kafka_tls import KafkaTls

    return KafkaTls.from_env(os.environ).client_config()


def _cmd_topics(args: argparse.Namespace) -> int:
    from events.bus import Topics
    from events.kafka_bus import ensure_topics

    outcome = ensure_topics(_require_bootstrap(args), Topics.from_env(), args.partitions, args.replication,
                            **_kafka_tls())
    for name, what in outcome.items():
        print(f"{name}: {what}")
    return 0


def _cmd_produce(args: argparse.Namespace) -> int:
    from cli.synthetic_traffic import synthetic_catalogue, synthetic_events
    from events.bus import Topics
    from events.kafka_bus import KafkaPublisher
    from events.producer import EventProducer, produce

    if args.rate is not None and args.rate <= 0:
        raise ValueError(f"--rate must be positive, got {args.rate}")
    data = synthetic_catalogue(args.users, args.items, args.seed)
    versions = tuple(v for v in args.model_versions.split(",") if v)
    publisher = KafkaPublisher(_require_bootstrap(args), **_kafka_tls())
    producer = EventProducer(publisher, Topics.from_env().events)
    result = produce(producer, synthetic_events(data, args.count, args.seed, versions), args.rate, progress=True)
    print(json.dumps(result))
    return 0


def _cmd_stream(args: argparse.Namespace) -> int:
    from stream.main import main
    from stream.settings import SETTINGS, StreamSettings

    main(StreamSettings.from_env(effective_environment(args.config, SETTINGS)))
    return 0
