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
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("ix_deliveries_handled", "deliveries", ["status", "processed_at"], unique=False,
                        sqlite_where=sa.text(HANDLED_DELIVERY))
        return
    # Built without holding up the inbox's writes, however large the table: CONCURRENTLY, which
    # runs outside a transaction (the migration lock is the session's: `connector.storage.db`). A
    # build that failed leaves an invalid index of this name behind, so it is dropped first.
    with op.get_context().autocommit_block():
        op.drop_index("ix_deliveries_handled", table_name="deliveries", if_exists=True,
                      postgresql_concurrently=True)
        op.create_index("ix_deliveries_handled", "deliveries", ["status", "processed_at"], unique=False,
                        postgresql_where=sa.text(HANDLED_DELIVERY), postgresql_concurrently=True)


def downgrade() -> None:
    op.drop_index("ix_deliveries_handled", table_name="deliveries")
