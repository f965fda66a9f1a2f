"""Buf-style lint of the contracts, checked on the compiled descriptors (an equivalent of `buf lint`
for the rules DESIGN.md names), plus the gateway's required fields."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from google.protobuf import descriptor

PROTO_ROOT = Path(__file__).resolve().parents[1] / "proto"
FILES = sorted(p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.rglob("*.proto"))


def _module(path: str):
    return importlib.import_module(path.removesuffix(".proto").replace("/", ".") + "_pb2")


@pytest.mark.parametrize("path", FILES)
def test_package_matches_directory_and_ends_in_version(path):
    file = _module(path).DESCRIPTOR
    assert file.package == path.rsplit("/", 1)[0].replace("/", ".")
    assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*\.v\d+", file.package)
    assert file.syntax == "proto3" if hasattr(file, "syntax") else True


@pytest.mark.parametrize("path", FILES)
def test_services_rpcs_and_enums_follow_buf_style(path):
    file = _module(path).DESCRIPTOR
    used_messages: set[str] = set()
    for service in file.services_by_name.values():
        assert service.name.endswith("Service"), service.name
        assert path.endswith(re.sub(r"(?<!^)(?=[A-Z])", "_", service.name).lower() + ".proto")
        for method in service.methods:
            assert method.input_type.name == f"{method.name}Request", method.full_name
            assert method.output_type.name == f"{method.name}Response", method.full_name
            for message in (method.input_type, method.output_type):
                assert message.full_name not in used_messages, f"{message.full_name} shared between RPCs"
                used_messages.add(message.full_name)
    for enum in file.enum_types_by_name.values():
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
        assert enum.values[0].number == 0 and enum.values[0].name == prefix + "UNSPECIFIED"
        assert all(value.name.startswith(prefix) for value in enum.values), enum.name


def test_recommend_request_contract():
    from recsys.v1 import recommendation_service_pb2 as pb

    fields = pb.RecommendRequest.DESCRIPTOR.fields_by_name
    assert fields["user_id"].number == 1 and fields["user_id"].type == descriptor.FieldDescriptor.TYPE_STRING
    assert fields["k"].number == 2 and fields["k"].type == descriptor.FieldDescriptor.TYPE_INT32
    assert {"filters", "model", "model_version", "context"} <= set(fields)
    item = pb.RecommendResponse.DESCRIPTOR.fields_by_name["items"].message_type.fields_by_name
    assert item["item_id"].type == descriptor.FieldDescriptor.TYPE_STRING
    assert item["score"].type == descriptor.FieldDescriptor.TYPE_FLOAT
    assert {"model_version", "reason"} <= set(item)
    service = pb.DESCRIPTOR.services_by_name["RecommendationService"]
    assert {"Recommend", "GetProduct", "ListUserInteractions", "ListModels", "GetSystemInfo"} <= set(
        service.methods_by_name)
