"""A SELECT-only database role next to a test's writer URL (PostgreSQL, MariaDB).

Shared by the read-only tests and the CI workflow test: both plan with a role
that may only read the shared store.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest


class Roles(NamedTuple):
    writer: str
    reader: str
    dump: Callable[[], Any]  # every stackctl row, read as the admin
    downgrade: Callable[[str], None]
    grant: Callable[[], None]  # SELECT on every table now present, to the reader


def pg_roles(request: pytest.FixtureRequest) -> Iterator[Roles]:
    import psycopg

    writer: str = request.getfixturevalue("postgresql_url")
    admin = request.getfixturevalue("pg_admin")
    database = writer.rsplit("/", 1)[1]
    role = f"stackctl_ro_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE ROLE "{role}" LOGIN')

    def in_db() -> Any:
        return psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=database,
                               autocommit=True)

    def grant() -> None:
        with in_db() as conn:
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')

    def dump() -> Any:
        with in_db() as conn:
            return {t: sorted(map(str, conn.execute(f"SELECT * FROM {t}").fetchall()))
                    for t in TABLES}

    roles = Roles(writer, writer.replace("postgres@", f"{role}@"), dump,
                  lambda rev: _downgrade(writer, rev), grant)
    try:
        yield roles
    finally:
        with in_db() as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def mariadb_roles(request: pytest.FixtureRequest) -> Iterator[Roles]:
    writer: str = request.getfixturevalue("mariadb_url")
    admin = request.getfixturevalue("mariadb_admin")
    database = writer.rsplit("/", 1)[1]
    user = f"stackctl_ro_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%'")

    def grant() -> None:
        with admin.cursor() as cur:
            cur.execute(f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'")

    def dump() -> Any:
        out = {}
        with admin.cursor() as cur:
            for table in TABLES:
                cur.execute(f"SELECT * FROM `{database}`.{table}")
                out[table] = sorted(map(str, cur.fetchall()))
        return out

    roles = Roles(writer, writer.replace("root@", f"{user}@"), dump,
                  lambda rev: _downgrade(writer, rev), grant)
    try:
        yield roles
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")


TABLES = ("stackctl_meta", "stackctl_components", "stackctl_stacks", "stackctl_managed",
          "stackctl_alembic_version")


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    from stackctl.stores import sql_schema
    from stackctl.stores.sql import SqlStore

    store = SqlStore("team", url)
    with store.engine.begin() as conn:
        command.downgrade(sql_schema.alembic_config(conn), revision)
    store.close()




def select_only_roles(request: pytest.FixtureRequest, backend: str) -> Iterator[Roles]:
    """The writer URL of a fresh database and a reader URL for a SELECT-only role."""
    yield from (pg_roles if backend == "postgresql" else mariadb_roles)(request)
