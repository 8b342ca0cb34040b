"""The initial SQL profile store: bookkeeping, components, stacks, flavors.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types of this revision (never import the live
# schema into a migration: it moves on, this file must not).
_OPTS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                         "mariadb_engine": "InnoDB", "mariadb_charset": "utf8mb4"}


def _name(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


def _json() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "stackctl_meta",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("lineage", sa.String(36), nullable=False),
        sa.Column("serial", sa.Integer, nullable=False),
        **_OPTS,
    )
    op.create_table(
        "stackctl_components",
        sa.Column("type", _name(64), primary_key=True),
        sa.Column("name", _name(200), primary_key=True),
        sa.Column("flavor", _name(200), nullable=False),
        sa.Column("uuid", sa.String(64), nullable=False),
        sa.Column("config", _json(), nullable=False),
        **_OPTS,
    )
    op.create_table(
        "stackctl_stacks",
        sa.Column("name", _name(200), primary_key=True),
        sa.Column("components", _json(), nullable=False),
        **_OPTS,
    )
    op.create_table(
        "stackctl_flavors",
        sa.Column("type", _name(64), primary_key=True),
        sa.Column("name", _name(200), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("config_schema", _json(), nullable=False),
        **_OPTS,
    )
    op.create_table(
        "stackctl_managed",
        sa.Column("address", _name(512), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        **_OPTS,
    )


def downgrade() -> None:
    for table in ("stackctl_managed", "stackctl_flavors", "stackctl_stacks",
                  "stackctl_components", "stackctl_meta"):
        op.drop_table(table)
