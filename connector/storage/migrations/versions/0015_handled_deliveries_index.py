"""the inbox's pruning finds the handled deliveries past their retention by an index, not a scan

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

HANDLED_DELIVERY = "status IN ('done', 'dead')"


def upgrade() -> None:
    op.create_index("ix_deliveries_handled", "deliveries", ["status", "processed_at"], unique=False,
                    postgresql_where=sa.text(HANDLED_DELIVERY), sqlite_where=sa.text(HANDLED_DELIVERY))


def downgrade() -> None:
    op.drop_index("ix_deliveries_handled", table_name="deliveries")
