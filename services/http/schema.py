"""JSON Schemas of the protos, for the OpenAPI document at /docs: the HTTP API's bodies are the
protos in protobuf's JSON mapping, so their schemas come from the same descriptors (no second,
hand-written model to drift from them)."""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"}, FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32"},
    # protobuf's JSON mapping writes 64-bit integers as strings
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"}, FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time", "example": "2026-11-27T10:00:00Z"},
}


def _field(field: FieldDescriptor, schemas: dict[str, dict]) -> dict:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _single(value, schemas)}
    single = _single(field, schemas)
    if field.is_repeated:
        return {"type": "array", "items": single}
    return single


def _single(field: FieldDescriptor, schemas: dict[str, dict]) -> dict:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return {"type": "string", "enum": [value.name for value in field.enum_type.values]}
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        full_name = field.message_type.full_name
        if full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[full_name])
        add_schema(field.message_type, schemas)
        return {"$ref": f"#/components/schemas/{field.message_type.name}"}
    return dict(_SCALARS[field.type])


def add_schema(message: Descriptor, schemas: dict[str, dict]) -> str:
    """Add ``message`` (and every message it uses) to ``schemas``; returns its reference."""
    if message.name not in schemas:
        schemas[message.name] = {}  # placed first: recursive messages end here
        schemas[message.name] = {"type": "object", "additionalProperties": False,
                                 "properties": {field.json_name: _field(field, schemas) for field in message.fields}}
    return f"#/components/schemas/{message.name}"
