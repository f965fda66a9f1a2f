import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InteractionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERACTION_TYPE_UNSPECIFIED: _ClassVar[InteractionType]
    INTERACTION_TYPE_VIEW: _ClassVar[InteractionType]
    INTERACTION_TYPE_CLICK: _ClassVar[InteractionType]
    INTERACTION_TYPE_ADD_TO_CART: _ClassVar[InteractionType]
    INTERACTION_TYPE_PURCHASE: _ClassVar[InteractionType]
    INTERACTION_TYPE_RATING: _ClassVar[InteractionType]

class ServingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVING_MODE_UNSPECIFIED: _ClassVar[ServingMode]
    SERVING_MODE_FULL: _ClassVar[ServingMode]
    SERVING_MODE_RETRIEVAL_ORDER: _ClassVar[ServingMode]
    SERVING_MODE_POPULARITY: _ClassVar[ServingMode]
INTERACTION_TYPE_UNSPECIFIED: InteractionType
INTERACTION_TYPE_VIEW: InteractionType
INTERACTION_TYPE_CLICK: InteractionType
INTERACTION_TYPE_ADD_TO_CART: InteractionType
INTERACTION_TYPE_PURCHASE: InteractionType
INTERACTION_TYPE_RATING: InteractionType
SERVING_MODE_UNSPECIFIED: ServingMode
SERVING_MODE_FULL: ServingMode
SERVING_MODE_RETRIEVAL_ORDER: ServingMode
SERVING_MODE_POPULARITY: ServingMode

class Product(_message.Message):
    __slots__ = ("item_id", "title", "categories", "brand", "price")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    title: str
    categories: _containers.RepeatedScalarFieldContainer[str]
    brand: str
    price: float
    def __init__(self, item_id: _Optional[str] = ..., title: _Optional[str] = ..., categories: _Optional[_Iterable[str]] = ..., brand: _Optional[str] = ..., price: _Optional[float] = ...) -> None: ...

class RecommendedItem(_message.Message):
    __slots__ = ("item_id", "score", "model_version", "reason", "product")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    score: float
    model_version: str
    reason: str
    product: Product
    def __init__(self, item_id: _Optional[str] = ..., score: _Optional[float] = ..., model_version: _Optional[str] = ..., reason: _Optional[str] = ..., product: _Optional[_Union[Product, _Mapping]] = ...) -> None: ...

class Interaction(_message.Message):
    __slots__ = ("item_id", "type", "value", "time")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    type: InteractionType
    value: float
    time: _timestamp_pb2.Timestamp
    def __init__(self, item_id: _Optional[str] = ..., type: _Optional[_Union[InteractionType, str]] = ..., value: _Optional[float] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Filters(_message.Message):
    __slots__ = ("categories", "brands", "min_price", "max_price", "exclude_item_ids")
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    BRANDS_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedScalarFieldContainer[str]
    brands: _containers.RepeatedScalarFieldContainer[str]
    min_price: float
    max_price: float
    exclude_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, categories: _Optional[_Iterable[str]] = ..., brands: _Optional[_Iterable[str]] = ..., min_price: _Optional[float] = ..., max_price: _Optional[float] = ..., exclude_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RequestContext(_message.Message):
    __slots__ = ("session_id", "surface", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    surface: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, session_id: _Optional[str] = ..., surface: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...
