"""Every table of the service's one database: feedback, issued cards, and the state replicas share.

A change here needs a migration in migrations/versions/ (tests/store/test_migrations.py checks they agree)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "FeedbackRow", "IssuedCardRow", "JwksRow", "SeenTokenRow"]


class Base(DeclarativeBase):
    pass


class FeedbackRow(Base):
    __tablename__ = "card_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(128), index=True)
    card_uuid: Mapped[str] = mapped_column(String(128), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    override_reason: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    outcome_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IssuedCardRow(Base):
    """A card the service answered with: no patient data, only what links feedback to the rules."""

    __tablename__ = "issued_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Unique: feedback names a card by its uuid, and must find one card, of one service.
    card_uuid: Mapped[str] = mapped_column(String(64), index=True, unique=True)
    service_id: Mapped[str] = mapped_column(String(128))
    rules: Mapped[list[str]] = mapped_column(JSON)
    indicator: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # engine.version.label of the knowledge that produced the card (None: recorded before revision 0002).
    knowledge_version: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SeenTokenRow(Base):
    """A client JWT already used, kept until it expires: the primary key makes replay a failed insert."""

    __tablename__ = "client_jwt_seen"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of iss and jti
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class JwksRow(Base):
    """A client's JWK Set as last fetched, and when a fetch last failed (the negative cache)."""

    __tablename__ = "client_jwks"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    keys: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    fetched_at: Mapped[float] = mapped_column(Float, default=0.0)
    failed_at: Mapped[float] = mapped_column(Float, default=0.0)
