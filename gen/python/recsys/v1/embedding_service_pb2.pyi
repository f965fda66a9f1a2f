from recsys.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetUserEmbeddingRequest(_message.Message):
    __slots__ = ("user_id", "model_version")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    model_version: str
    def __init__(self, user_id: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class GetUserEmbeddingResponse(_message.Message):
    __slots__ = ("vector", "model_version", "known", "folded_in", "seen_item_ids")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    FOLDED_IN_FIELD_NUMBER: _ClassVar[int]
    SEEN_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    model_version: str
    known: bool
    folded_in: bool
    seen_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, vector: _Optional[_Iterable[float]] = ..., model_version: _Optional[str] = ..., known: _Optional[bool] = ..., folded_in: _Optional[bool] = ..., seen_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordInteractionsRequest(_message.Message):
    __slots__ = ("user_id", "interactions")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    interactions: _containers.RepeatedCompositeFieldContainer[_common_pb2.Interaction]
    def __init__(self, user_id: _Optional[str] = ..., interactions: _Optional[_Iterable[_Union[_common_pb2.Interaction, _Mapping]]] = ...) -> None: ...

class RecordInteractionsResponse(_message.Message):
    __slots__ = ("recorded", "unknown_item_ids")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    unknown_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, recorded: _Optional[int] = ..., unknown_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchRecordInteractionsRequest(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[RecordInteractionsRequest]
    def __init__(self, users: _Optional[_Iterable[_Union[RecordInteractionsRequest, _Mapping]]] = ...) -> None: ...

class BatchRecordInteractionsResponse(_message.Message):
    __slots__ = ("recorded", "unknown_item_ids")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    unknown_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, recorded: _Optional[int] = ..., unknown_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...
