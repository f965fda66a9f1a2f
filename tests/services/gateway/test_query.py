"""A Recommend request becomes one validated query: checks happen once, exclusions merge once."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidRequest
from core.filters import ItemFilter
from core.item_ids import ItemsAt
from recsys.v1 import common_pb2
from recsys.v1 import recommendation_service_pb2 as pb
from services.common.convert import filters_message, item_filter_of
from services.gateway.query import RecommendQuery


def test_a_request_becomes_a_query():
    request = pb.RecommendRequest(user_id="u1", k=5, model_version="v2", filters=common_pb2.Filters(
        categories=["Books"], max_price=20, exclude_item_ids=["x", "y"]))
    query = RecommendQuery.from_request(request, max_k=10)
    assert (query.user_id, query.k, query.model, query.excluded) == ("u1", 5, "v2", ("x", "y"))
    assert query.item_filter == ItemFilter(categories=("Books",), max_price=20.0)
    assert query.exclusions_with(["s"]) == ["s", "x", "y"]


def test_the_users_items_pass_as_they_came_when_the_caller_excludes_nothing():
    seen = ItemsAt(["a", "b", "c"], np.array([2, 0]))
    query = RecommendQuery.from_request(pb.RecommendRequest(user_id="u1", k=5), max_k=10)
    assert query.exclusions_with(seen) is seen


@pytest.mark.parametrize("request_kwargs, message", [
    ({"user_id": "", "k": 1}, "user_id must not be empty"),
    ({"user_id": "u", "k": 11}, "k must be in 1..10"),
    ({"user_id": "u\x00", "k": 1}, "user_id must not contain control characters"),
    ({"user_id": "u", "k": 1, "filters": common_pb2.Filters(exclude_item_ids=[""])}, "filters.exclude_item_ids"),
    ({"user_id": "u", "k": 1, "filters": common_pb2.Filters(min_price=3, max_price=2)}, "above max_price"),
])
def test_bad_requests_fail_when_the_query_is_built(request_kwargs, message):
    with pytest.raises(InvalidRequest, match=message):
        RecommendQuery.from_request(pb.RecommendRequest(**request_kwargs), max_k=10)


def test_filters_survive_the_round_trip_through_the_message():
    item_filter = ItemFilter(categories=("a", "b"), brands=("z",), min_price=0.0, max_price=9.5)
    assert item_filter_of(filters_message(item_filter)) == item_filter
    assert not filters_message(ItemFilter()).HasField("min_price")
