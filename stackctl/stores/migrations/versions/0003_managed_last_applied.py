"""Keep a redacted last-applied record beside each managed fingerprint.

`plan` and `drift` then name the fields changed outside stackctl (old → new, secrets
only as salted fingerprints). Rows from before it hold NULL: their drift is reported
as "changed", as before.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stackctl_managed") as batch:
        batch.add_column(sa.Column(
            "last_applied", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
            nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stackctl_managed") as batch:
        batch.drop_column("last_applied")
