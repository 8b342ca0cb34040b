"""Record which project applied each managed object (shared ownership).

Two projects (repositories) may manage different objects of one profile;
each prunes only its own, and a project claiming another's object is refused
at plan time. Existing rows get no owner: the next project to apply them
records itself.

Revision ID: 0004_owner
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004_owner"
down_revision = "0003"
branch_labels = None
depends_on = None

# the store's name type (sql_schema.Name, frozen here: migrations never import it)
Name = sa.String(200).with_variant(mysql.VARCHAR(200, collation="utf8mb4_bin"), "mysql",
                                   "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("stackctl_managed") as batch:
        batch.add_column(sa.Column("owner", Name, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stackctl_managed") as batch:
        batch.drop_column("owner")
