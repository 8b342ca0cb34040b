"""Record which stackctl version wrote the store last.

A store refused as "newer than this stackctl" can then say which version to
install, and a team can see who is on an old release.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stackctl_meta") as batch:
        batch.add_column(sa.Column("stackctl_version", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stackctl_meta") as batch:
        batch.drop_column("stackctl_version")
