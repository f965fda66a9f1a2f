"""The embedded default's event pipeline inside `recsys serve all` (no Kafka): POST /events
appends to an in-process bus; the same stream processor as production stores the events (SQLite by
default, the history the web interface shows); the embedding service's reader takes them from the
same bus. With RECSYS_KAFKA_BOOTSTRAP set, `serve all` uses Kafka instead and none of this runs."""

from __future__ import annotations

import logging
import threading

from events.bus import Topics
from events.memory_bus import InProcessBus, InProcessReader
from services.gateway.catalogue import Catalogue
from services.http.events import BusSink
from store import repository
from store.db import make_engine, upgrade
from stream.config import ProcessorConfig
from stream.processor import StreamProcessor

log = logging.getLogger(__name__)


class EmbeddedEvents:
    def __init__(self, database_url: str, catalogue: Catalogue) -> None:
        upgrade(database_url)
        self.engine = make_engine(database_url)
        with self.engine.begin() as connection:  # events naming unknown products are dead letters
            repository.upsert_products(connection, [
                {"item_id": item, "title": row.get("title"), "categories": row.get("categories") or [],
                 "brand": row.get("brand"), "price": row.get("price"), "attributes": {}}
                for item, row in catalogue.products.items()])
        self.bus = InProcessBus()
        self.topics = Topics()
        self.processor = StreamProcessor(self.bus.source(self.topics.events, "serve-all"), self.bus.publisher(),
                                         self.engine, self.topics, ProcessorConfig(poll_timeout_s=0.05))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-stream", daemon=True)
        self._thread.start()
        log.info("events: in-process bus -> stream processor -> %s (POST /events)",
                 self.engine.url.render_as_string(hide_password=True))

    def sink(self) -> BusSink:
        return BusSink(self.bus.publisher(), self.topics.events)

    def reader(self, since_ms: int) -> InProcessReader:
        return self.bus.reader(self.topics.events, since_ms)

    def _run(self) -> None:
        self.processor.run(self._stop)
        while True:  # store what was accepted before the stop
            done = self.processor.run_once()
            if not (done.stored or done.duplicates or done.dead_letters):
                break

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.engine.dispose()
