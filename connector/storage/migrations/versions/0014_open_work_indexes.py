"""claims scan only the open deliveries and actions, and check only those for an earlier one (partial indexes)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OPEN_DELIVERY = "status IN ('pending', 'processing')"
OPEN_ACTION = "status IN ('pending', 'running')"
PROCESSING_DELIVERY = "status = 'processing'"


def upgrade() -> None:
    op.create_index("ix_deliveries_open", "deliveries", ["id"], unique=False,
                    postgresql_where=sa.text(OPEN_DELIVERY), sqlite_where=sa.text(OPEN_DELIVERY))
    op.create_index("ix_deliveries_processing", "deliveries", ["platform", "shop_domain", "id"], unique=False,
                    postgresql_where=sa.text(PROCESSING_DELIVERY), sqlite_where=sa.text(PROCESSING_DELIVERY))
    op.create_index("ix_actions_open", "actions", ["id"], unique=False,
                    postgresql_where=sa.text(OPEN_ACTION), sqlite_where=sa.text(OPEN_ACTION))
    op.create_index("ix_actions_open_by_order", "actions", ["order_id", "id"], unique=False,
                    postgresql_where=sa.text(OPEN_ACTION), sqlite_where=sa.text(OPEN_ACTION))


def downgrade() -> None:
    op.drop_index("ix_actions_open_by_order", table_name="actions")
    op.drop_index("ix_actions_open", table_name="actions")
    op.drop_index("ix_deliveries_processing", table_name="deliveries")
    op.drop_index("ix_deliveries_open", table_name="deliveries")
