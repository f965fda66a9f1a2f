"""The HTTP API's hand-written RecommendResponse JSON is exactly protobuf's JSON mapping."""

from __future__ import annotations

import random

from fuzz_inputs import fill
from google.protobuf import json_format

from recsys.v1 import common_pb2
from recsys.v1 import recommendation_service_pb2 as pb
from services.http.fast_json import FIELDS, recommend_response


def test_every_field_of_the_messages_is_written():
    for message in (pb.RecommendResponse, common_pb2.RecommendedItem, common_pb2.Product):
        assert {field.name for field in message.DESCRIPTOR.fields} == FIELDS[message.DESCRIPTOR.name], \
            f"{message.DESCRIPTOR.name} changed: update services/http/fast_json.py"


def test_it_equals_message_to_dict_on_generated_responses():
    rng = random.Random(3)
    for _ in range(1000):
        response = fill(pb.RecommendResponse(), rng)
        expected = json_format.MessageToDict(response, always_print_fields_with_no_presence=True)
        assert recommend_response(response) == expected, response
