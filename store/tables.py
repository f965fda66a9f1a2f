"""Typed ORM models. Column choices follow the queries the services run (see the indices)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.event_types import EventType
from core.ids import MAX_ID_LENGTH

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JsonColumn = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ID_LENGTH = MAX_ID_LENGTH  # user, product and event ids: one limit from the request edge to the columns


class ModelStage(str, enum.Enum):
    CANDIDATE = "candidate"  # trained, not serving
    CANARY = "canary"  # serving a share of traffic
    PRODUCTION = "production"
    ARCHIVED = "archived"  # replaced or rolled back


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Product(Base):
    __tablename__ = "products"

    item_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(1024))
    categories: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    brand: Mapped[str | None] = mapped_column(String(256), index=True)
    price: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)


class Interaction(Base):
    """One user event. ``event_id`` is the producer's id: the unique key that makes writes idempotent."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("products.item_id"))
    event_type: Mapped[EventType] = mapped_column(
        Enum(EventType, name="event_type", values_callable=lambda e: [m.value for m in e]))
    value: Mapped[float] = mapped_column(Float, default=1.0)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    # The model version whose recommendation led to this event (online metrics per version).
    model_version: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        # a user's history, newest first (ListUserInteractions, fold-in on startup)
        Index("ix_interactions_user_time", "user_id", "occurred_at"),
        Index("ix_interactions_item", "item_id"),
        # online metrics: events of one version in a time window
        Index("ix_interactions_version_time", "model_version", "occurred_at"),
    )


class ModelVersion(Base):
    """The registry the operator writes and the gateway reads."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(253))  # the RecommenderModel's name
    version: Mapped[str] = mapped_column(String(ID_LENGTH))
    model_type: Mapped[str] = mapped_column(String(32))
    artifact_uri: Mapped[str] = mapped_column(String(2048))
    metrics: Mapped[dict[str, float]] = mapped_column(JsonColumn, default=dict)
    stage: Mapped[ModelStage] = mapped_column(
        Enum(ModelStage, name="model_stage", values_callable=lambda e: [m.value for m in e]),
        default=ModelStage.CANDIDATE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
        Index("ix_model_versions_stage", "name", "stage"),
    )


class OnlineMetricWindow(Base):
    """Per-version event counts over one window of processing time, incremented by the stream
    processor in the same transaction as the events it counts (so replays never double count)."""

    __tablename__ = "online_metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(String(ID_LENGTH))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    add_to_carts: Mapped[int] = mapped_column(BigInteger, default=0)
    purchases: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("model_version", "window_start", name="uq_online_metrics_version_window"),
        Index("ix_online_metrics_version_window_end", "model_version", "window_end"),
    )
