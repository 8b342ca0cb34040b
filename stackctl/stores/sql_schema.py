"""The tables of the SQL profile store, their schema revisions (Alembic), row syncing.

The tables describe the schema at the newest migration (``HEAD``); the
migrations in ``migrations/versions/`` are frozen copies and never import this
module. Configs, stack memberships and flavor schemas are JSON text: the store
never queries inside them, and text round-trips the same on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    column,
    inspect,
    select,
)
from sqlalchemy import table as lightweight_table
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration this stackctl ships; a test checks it is Alembic's head.
HEAD = "0004_owner"
# Not Alembic's default ``alembic_version``: a team database may also hold
# another Alembic-managed application (a ZenML server does), whose revisions
# must never be mistaken for ours.
VERSION_TABLE = "stackctl_alembic_version"

# Names compare byte for byte everywhere (MySQL's default collation would make
# 'Prod' and 'prod' one component; the local store keeps them apart).
Name = String(200).with_variant(mysql.VARCHAR(200, collation="utf8mb4_bin"), "mysql", "mariadb")
TypeName = String(64).with_variant(mysql.VARCHAR(64, collation="utf8mb4_bin"), "mysql", "mariadb")
Address = String(512).with_variant(mysql.VARCHAR(512, collation="utf8mb4_bin"), "mysql",
                                   "mariadb")
# MySQL's TEXT stops at 64 KiB; a flavor's JSON Schema can be longer.
Json = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

# A database's default charset may be latin1; names and configs are Unicode.
MYSQL_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                                 "mariadb_engine": "InnoDB", "mariadb_charset": "utf8mb4"}

metadata = MetaData()

meta = Table(
    "stackctl_meta", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one row
    Column("lineage", String(36), nullable=False),
    Column("serial", Integer, nullable=False),
    Column("stackctl_version", String(32), nullable=True),  # 0002: who wrote last
    **MYSQL_OPTIONS,
)

components = Table(
    "stackctl_components", metadata,
    Column("type", TypeName, primary_key=True),
    Column("name", Name, primary_key=True),
    Column("flavor", Name, nullable=False),
    Column("uuid", String(64), nullable=False),
    Column("config", Json, nullable=False),
    **MYSQL_OPTIONS,
)

stacks = Table(
    "stackctl_stacks", metadata,
    Column("name", Name, primary_key=True),
    Column("components", Json, nullable=False),  # {component type: component name}
    **MYSQL_OPTIONS,
)

flavors = Table(
    "stackctl_flavors", metadata,
    Column("type", TypeName, primary_key=True),
    Column("name", Name, primary_key=True),
    Column("source", Text, nullable=False),
    Column("config_schema", Json, nullable=False),
    **MYSQL_OPTIONS,
)

managed = Table(
    "stackctl_managed", metadata,
    Column("address", Address, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    # 0003: the redacted last-applied record (plan/records.py); NULL before 0003
    Column("last_applied", Json, nullable=True),
    Column("owner", Name, nullable=True),  # 0004_owner: the project that applied it
    **MYSQL_OPTIONS,
)

_K = TypeVar("_K")
_V = TypeVar("_V")

_versions = lightweight_table(VERSION_TABLE, column("version_num", String))


def revisions(conn: Connection) -> set[str] | None:
    """The revisions recorded in the database; None without a version table."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return {str(r) for r in conn.scalars(select(_versions.c.version_num))}


def known_revisions() -> set[str]:
    """Every revision this stackctl ships (a newer store has one that is not here)."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def alembic_config(conn: Connection) -> Config:
    """An Alembic ``Config`` over the shipped migrations, bound to ``conn`` (no .ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: Connection, target: str = "head") -> None:
    """Run the migrations on ``conn``, inside the transaction the caller began."""
    from alembic import command

    command.upgrade(alembic_config(conn), target)


def sync_rows(conn: Connection, table: Table, before: Mapping[_K, _V],
              after: Mapping[_K, _V], to_row: Callable[[_K, _V], dict[str, Any]]) -> None:
    """Make ``table`` go from ``before`` to ``after``: one executemany per kind of change."""
    pk = [c.name for c in table.primary_key]
    added = [to_row(k, v) for k, v in after.items() if k not in before]
    changed = [to_row(k, v) for k, v in after.items() if k in before and before[k] != v]
    gone = [to_row(k, v) for k, v in before.items() if k not in after]
    match = [table.c[c] == bindparam(f"pk_{c}") for c in pk]
    if gone:
        conn.execute(table.delete().where(*match), [{f"pk_{c}": r[c] for c in pk} for r in gone])
    if changed:
        values: dict[str, Any] = {c.name: bindparam(f"v_{c.name}")
                                  for c in table.c if c.name not in pk}
        conn.execute(table.update().where(*match).values(values),
                     [{**{f"pk_{c}": r[c] for c in pk},
                       **{f"v_{k}": v for k, v in r.items() if k not in pk}} for r in changed])
    if added:
        conn.execute(table.insert(), added)
