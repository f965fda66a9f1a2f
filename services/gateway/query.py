"""One Recommend request as the gateway works on it: validated once, when it is built from the
message, so no hop re-checks or re-merges anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import InvalidRequest
from core.filters import ItemFilter
from core.ids import require_id, require_ids
from recsys.v1 import recommendation_service_pb2 as pb
from services.common.convert import item_filter_of

MAX_EXCLUDED_IDS = 10_000


@dataclass(frozen=True)
class RecommendQuery:
    user_id: str
    k: int
    item_filter: ItemFilter
    excluded: tuple[str, ...]  # the caller's exclusions (filters.exclude_item_ids)
    model: str  # the route asked for by name or version; empty: the traffic split decides

    @classmethod
    def from_request(cls, request: pb.RecommendRequest, max_k: int) -> RecommendQuery:
        require_id(request.user_id, "user_id")
        if not 0 < request.k <= max_k:
            raise InvalidRequest(f"k must be in 1..{max_k}, got {request.k}")
        excluded = require_ids(request.filters.exclude_item_ids, "filters.exclude_item_ids", MAX_EXCLUDED_IDS,
                               allow_empty=True)
        return cls(request.user_id, request.k, item_filter_of(request.filters), tuple(excluded),
                   request.model_version or request.model)

    def exclusions_with(self, seen_item_ids: Sequence[str]) -> Sequence[str]:
        """Items the answer must not contain: what the user has, then what the caller excluded (the
        user's items as they came when the caller excluded nothing: positions stay positions)."""
        return seen_item_ids if not self.excluded else [*seen_item_ids, *self.excluded]
