"""Attribution of updates, versions and edit history.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("doc_updates") as batch:
        batch.add_column(sa.Column("author_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("doc_updates") as batch:
        batch.drop_column("author_id")
