"""Synthetic traffic from the catalogue generator: events to bulk-load into the store and user
events to send through the pipeline, for demos, load tests and benchmarks."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from core.event_types import EventType
from events.codec import TYPE_CODES
from recsys.v1 import events_pb2
from store.bulk import EventColumns
from training.data.synthetic import SyntheticConfig, SyntheticData, generate


def events_from_synthetic(data: SyntheticData) -> EventColumns:
    """The generator's event log as columns for a bulk load."""
    ev = data.events
    return EventColumns(ev.event_id_strings(), ev.user_ids, ev.item_ids, ev.event_type_names, ev.value,
                        ev.timestamp)


def synthetic_events(data: SyntheticData, count: int, seed: int = 0, model_versions: tuple[str, ...] = (),
                     run_id: str | None = None) -> Iterator[events_pb2.UserEvent]:
    """``count`` events replaying the generator's funnel (view -> click -> cart -> purchase -> rating)
    with the current time; each event names one of ``model_versions`` (if any) as its source."""
    ev = data.events
    rng = np.random.default_rng(seed)
    run_id = run_id or f"{int(time.time() * 1000):x}"
    order = rng.permutation(len(ev)) if count < len(ev) else np.arange(len(ev))
    names = [EventType(name) for name in ev.type_names]
    codes = [TYPE_CODES[kind] for kind in names]
    for n in range(count):
        i = int(order[n % len(order)])
        event = events_pb2.UserEvent(
            event_id=f"{run_id}-{n}", user_id=str(data.user_ids[ev.user_index[i]]),
            item_id=str(data.item_ids[ev.item_index[i]]), type=codes[ev.event_type[i]],
            value=float(ev.value[i]), session_id=f"s{ev.user_index[i]}",
            model_version=model_versions[n % len(model_versions)] if model_versions else "")
        event.time.FromNanoseconds(time.time_ns())
        yield event


def synthetic_catalogue(users: int, items: int, seed: int = 0) -> SyntheticData:
    return generate(SyntheticConfig(n_users=users, n_items=items, seed=seed))
