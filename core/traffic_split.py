"""Traffic split between model versions, changeable at run time without a restart.

A split file (JSON, path in RECSYS_TRAFFIC_SPLIT) lists routes, each a named set of backends with
a weight; the operator's canary rollout rewrites it, and the gateway picks up the change within
RECSYS_SPLIT_RELOAD_SECONDS (the schema lives here, with the operator that writes it and
the gateway that reads it)::

    {"routes": [
      {"name": "v41", "weight": 0.9,
       "embedding": "emb-v41:50054", "retrieval": "ret-v41:50052", "scoring": "sc-v41:50053"},
      {"name": "v42", "weight": 0.1,
       "embedding": "emb-v42:50054", "retrieval": "ret-v42:50052", "scoring": "sc-v42:50053"}]}

Users are assigned by a stable hash of their id, so a user stays on one version while the weights
stay put (no flip-flopping between models from one request to the next).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import SettingsError

BACKENDS = ("embedding", "retrieval", "scoring")  # the addresses each route names, one per backend service


@dataclass(frozen=True)
class Route:
    name: str
    weight: float
    embedding: str
    retrieval: str
    scoring: str


@dataclass(frozen=True)
class TrafficSplit:
    routes: tuple[Route, ...]

    def __post_init__(self) -> None:
        if not self.routes:
            raise SettingsError("a traffic split needs at least one route")
        names = [r.name for r in self.routes]
        if len(set(names)) != len(names):
            raise SettingsError(f"route names must be unique, got {names}")
        if any(r.weight < 0 for r in self.routes) or sum(r.weight for r in self.routes) <= 0:
            raise SettingsError("route weights must be >= 0 and sum to more than 0")

    @classmethod
    def single(cls, name: str, embedding: str, retrieval: str, scoring: str) -> TrafficSplit:
        return cls((Route(name, 1.0, embedding, retrieval, scoring),))

    def share(self, route: Route) -> float:
        return route.weight / sum(r.weight for r in self.routes)

    def choose(self, user_id: str) -> Route:
        """Stable per-user choice in proportion to the weights."""
        digest = hashlib.blake2b(user_id.encode(), digest_size=8).digest()
        point = int.from_bytes(digest, "big") / 2**64 * sum(r.weight for r in self.routes)
        for route in self.routes:
            if point < route.weight:
                return route
            point -= route.weight
        return next(r for r in reversed(self.routes) if r.weight > 0)

    def by_name(self, name: str) -> Route | None:
        return next((r for r in self.routes if r.name == name), None)

    def to_document(self) -> dict[str, list[dict[str, object]]]:
        """The split file's JSON document (what ``load_split`` reads)."""
        return {"routes": [{"name": r.name, "weight": r.weight, **{b: getattr(r, b) for b in BACKENDS}}
                           for r in self.routes]}

    def to_json(self) -> str:
        """The split file's text (stable: sorted keys, so an unchanged split writes the same bytes)."""
        return json.dumps(self.to_document(), indent=1, sort_keys=True)


def load_split(path: Path) -> TrafficSplit:
    """Parse and validate a split file; errors name the file and the problem."""
    try:
        document = json.loads(path.read_text())
        routes = tuple(Route(name=str(r["name"]), weight=float(r["weight"]), embedding=str(r["embedding"]),
                             retrieval=str(r["retrieval"]), scoring=str(r["scoring"]))
                       for r in document["routes"])
    except FileNotFoundError:
        raise SettingsError(f"traffic split file {path} does not exist") from None
    except (ValueError, KeyError, TypeError) as error:
        raise SettingsError(f"{path}: expected {{\"routes\": [{{name, weight, embedding, retrieval, scoring}}]}}: "
                            f"{error}") from None
    return TrafficSplit(routes)
