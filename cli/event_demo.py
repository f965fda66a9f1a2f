"""The embedded default's real-time step: events through the in-process bus, the same stream
processor as production (into the SQLite store) and the embedding service's own reader of the
events topic, whose LightGCN fold-in changes a new shopper's recommendations (no Kafka, PostgreSQL
or gRPC servers needed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.catalogue import ItemCatalogue
from events.bus import Topics
from events.codec import make_event
from events.memory_bus import InProcessBus
from services.embedding.store import EmbeddingModel, RecentInteractions
from services.embedding.tail import InteractionTail, catchup_start
from services.embedding.users import UserEmbeddings
from store import repository
from store.bulk import EventColumns, load_events, product_rows
from store.db import make_engine, upgrade
from stream.processor import ProcessorConfig, StreamProcessor


def top_items(model: EmbeddingModel, recent: RecentInteractions, user_id: str, k: int) -> list[str]:
    """LightGCN top-k for the user as the embedding + retrieval services compute it (popular if cold)."""
    user = model.user_vector(user_id, model.indices(recent.get(user_id)))
    if user.vector is None:
        scores = model.item_degree.copy()
    else:
        scores = model.item_vectors @ user.vector
    scores[user.seen] = -np.inf
    return [model.item_ids[i] for i in np.argsort(-scores, kind="stable")[:k].tolist()]


def run_event_demo(lightgcn_artifact: Path, catalogue: ItemCatalogue, store_path: Path,
                   history: EventColumns | None = None, echo: Callable[[str], None] = print) -> dict[str, object]:
    """The demo; ``history`` (the catalogue's past events) is loaded into the store first, so that
    `recsys serve all` on the quickstart's models shows users' histories."""
    url = f"sqlite:///{store_path}"
    upgrade(url)
    engine = make_engine(url)
    model = EmbeddingModel.from_artifact(lightgcn_artifact)
    with engine.begin() as connection:
        repository.upsert_products(connection, product_rows(np.asarray(model.item_ids), catalogue))
    if history is not None:
        started = time.perf_counter()
        new = load_events(engine, history, catalogue, progress=False)
        echo(f"\nstore {store_path}: {len(history):,} past events ({new:,} new) in "
             f"{time.perf_counter() - started:.1f}s, the histories `recsys serve all` shows")
    users = UserEmbeddings(RecentInteractions())
    users.load(model)
    recent = users.recent
    bus = InProcessBus()
    topics = Topics()
    processor = StreamProcessor(bus.source(topics.events, "quickstart"), bus.publisher(), engine, topics,
                                ProcessorConfig(poll_timeout_s=0.01))
    tail = InteractionTail(lambda since_ms: bus.reader(topics.events, since_ms), users, poll_s=0.01)
    tail.start(catchup_start(model.data_read_at))
    title = lambda item: catalogue.titles.get(item) or item  # noqa: E731
    shopper = "new-shopper-1"
    before = top_items(model, recent, shopper, 5)
    echo(f"\n== real-time events (in-process bus -> stream processor -> {store_path.name}) ==")
    echo(f"{shopper} (no history) gets the popular items: " + "; ".join(title(i) for i in before))
    # the shopper clicks three popular products of one category other than the popular list's first
    first_category = lambda item: (catalogue.categories.get(item) or [""])[0]  # noqa: E731
    by_popularity = [model.item_ids[i] for i in np.argsort(-model.item_degree, kind="stable").tolist()]
    target = next(first_category(i) for i in by_popularity if first_category(i) != first_category(before[0]))
    clicked = [i for i in by_popularity if first_category(i) == target][:3]
    started = time.perf_counter()
    publisher = bus.publisher()
    for item in clicked:
        event = make_event(shopper, item, "click", session_id="demo")
        publisher.publish(topics.events, shopper.encode(), event.SerializeToString())
    publisher.publish(topics.events, b"bad", b"\x00 not an event")  # goes to the dead-letter topic
    while processor.totals.stored + processor.totals.dead_letters < len(clicked) + 1:
        processor.run_once()
    deadline = time.monotonic() + 30
    while len(recent.get(shopper)) < len(clicked) and time.monotonic() < deadline:
        time.sleep(0.005)  # the embedding side reads the same topic on its own thread
    tail.stop()
    after = top_items(model, recent, shopper, 5)
    elapsed_ms = (time.perf_counter() - started) * 1000
    echo(f"clicks on {target or 'some'} products: " + "; ".join(title(i) for i in clicked))
    echo("now recommended: " + "; ".join(title(i) for i in after))
    stored = processor.totals.stored
    echo(f"{stored} events stored, {processor.totals.dead_letters} malformed event in the dead-letter topic, "
         f"recommendations updated {elapsed_ms:.0f} ms after the clicks")
    engine.dispose()
    return {"before": before, "clicked": clicked, "after": after, "stored": stored,
            "dead_letters": processor.totals.dead_letters, "update_ms": elapsed_ms}
