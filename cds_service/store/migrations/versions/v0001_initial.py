"""The tables as `create_all` made them before migrations: card_feedback, issued_cards, client_jwt_seen, client_jwks.

A database made by that create_all has these tables and no alembic_version: this revision then creates only
what is missing (nothing, or a table added after the database was made) and so adopts it, rows kept.

Revision ID: 0001
Revises:
Create Date: 2026-12-01"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "card_feedback" not in existing:
        op.create_table(
            "card_feedback",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("service_id", sa.String(128), nullable=False),
            sa.Column("card_uuid", sa.String(128), nullable=False),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("accepted_suggestions", sa.JSON(), nullable=True),
            sa.Column("override_reason", sa.JSON(), nullable=True),
            sa.Column("outcome_timestamp", sa.DateTime(timezone=True), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_card_feedback_service_id", "card_feedback", ["service_id"])
        op.create_index("ix_card_feedback_card_uuid", "card_feedback", ["card_uuid"])
    if "issued_cards" not in existing:
        op.create_table(
            "issued_cards",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("card_uuid", sa.String(64), nullable=False),
            sa.Column("service_id", sa.String(128), nullable=False),
            sa.Column("rules", sa.JSON(), nullable=False),
            sa.Column("indicator", sa.String(16), nullable=False),
            sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_issued_cards_card_uuid", "issued_cards", ["card_uuid"])
        op.create_index("ix_issued_cards_issued_at", "issued_cards", ["issued_at"])
    if "client_jwt_seen" not in existing:
        op.create_table(
            "client_jwt_seen",
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("expires_at", sa.Float(), nullable=False),
        )
        op.create_index("ix_client_jwt_seen_expires_at", "client_jwt_seen", ["expires_at"])
    if "client_jwks" not in existing:
        op.create_table(
            "client_jwks",
            sa.Column("url", sa.String(2048), primary_key=True),
            sa.Column("keys", sa.JSON(), nullable=True),
            sa.Column("fetched_at", sa.Float(), nullable=False),
            sa.Column("failed_at", sa.Float(), nullable=False),
        )


def downgrade() -> None:
    for table in ("client_jwks", "client_jwt_seen", "issued_cards", "card_feedback"):
        op.drop_table(table)
