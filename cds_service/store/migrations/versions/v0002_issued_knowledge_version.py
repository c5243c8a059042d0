"""issued_cards: the knowledge version of each card, and one row per card uuid (a unique index).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Cards recorded before keep NULL: their knowledge version was not recorded, and is not guessed.
    with op.batch_alter_table("issued_cards") as table:
        table.add_column(sa.Column("knowledge_version", sa.String(64), nullable=True))
        table.drop_index("ix_issued_cards_card_uuid")
        table.create_index("ix_issued_cards_card_uuid", ["card_uuid"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("issued_cards") as table:
        table.drop_index("ix_issued_cards_card_uuid")
        table.create_index("ix_issued_cards_card_uuid", ["card_uuid"])
        table.drop_column("knowledge_version")
