"""How the SQL store talks to each database: engines, locks and driver errors.

Everything that differs between SQLite, PostgreSQL and MySQL/MariaDB lives
here, so ``sql.py`` reads the same for all three: how to build an engine,
how to take the store lock and the migration lock with a bounded wait, and
how to read a driver's error (lock timeout? lost connection? bad password?).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import socket
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from stackctl.errors import StoreError
from stackctl.stores import lock
from stackctl.stores.urls import redact_url

CONNECT_TIMEOUT = 10  # seconds; an unreachable host must not hang a command
URL_HINT = ("Use sqlite:///PATH, postgresql+psycopg://USER:PASSWORD@HOST/DB or "
            "mysql+pymysql://USER:PASSWORD@HOST/DB.")
# PostgreSQL advisory lock key serializing schema changes (advisory locks are per database).
_MIGRATE_KEY = int.from_bytes(hashlib.sha256(b"stackctl.migrate").digest()[:8], "big",
                              signed=True)


lock_timeout = lock.lock_timeout  # the one rule, in stores.lock


def make_engine(raw_url: str, profile: str) -> Engine:
    """One engine per store; a bad URL or a driver that is not installed is a StoreError."""
    shown = redact_url(raw_url)
    try:
        url = sa.make_url(raw_url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is no number, bad IPv6
        raise StoreError(f"The store URL of profile '{profile}' is not a valid SQLAlchemy "
                         f"URL: {shown}", hint=URL_HINT) from None
    if "@" in (url.host or "") or (url.port is not None and not 0 < url.port < 65536):
        # the host would carry the password's rest into the driver's error messages
        raise StoreError(f"The store URL of profile '{profile}' is not a valid SQLAlchemy URL "
                         f"(an unescaped '@' in the password, or a bad port): {shown}",
                         hint="Percent-encode '@' in a user name or password as %40. "
                              + URL_HINT)
    backend = url.get_backend_name()
    args: dict[str, Any] = {}
    if backend == "postgresql":
        # Named so a DBA can see who holds a store's lock (pg_stat_activity).
        who = f"stackctl pid {os.getpid()} on {socket.gethostname()}"
        args = {"connect_timeout": CONNECT_TIMEOUT, "application_name": who[:63]}
    elif backend in ("mysql", "mariadb"):
        args = {"connect_timeout": CONNECT_TIMEOUT}
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=args)
    except (ImportError, sa.exc.ArgumentError) as exc:
        reason = str(exc).replace(raw_url, shown).splitlines()[0]
        raise StoreError(f"Profile '{profile}' cannot use the store URL {shown}: {reason}",
                         hint=URL_HINT) from None
    if backend == "sqlite":
        _take_over_sqlite_transactions(engine)
    return engine


def _take_over_sqlite_transactions(engine: Engine) -> None:
    """SQLAlchemy's recipe: emit BEGIN ourselves, IMMEDIATE for writers.

    pysqlite would start transactions lazily and commit around DDL; the store
    needs its write lock taken up front (it is the store lock) and migrations
    atomic.
    """
    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_conn: object, _record: object) -> None:
        cast("Any", dbapi_conn).isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(lock_timeout() * 1000)}")
        write = conn.get_execution_options().get("stackctl_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def prepare(conn: Connection, *, write: bool) -> Connection:
    """Set a fresh connection up for a reader or a writer, before it begins."""
    if conn.dialect.name == "sqlite":
        return conn.execution_options(stackctl_write=write)
    # A writer holds the meta row lock, then must see what the previous writer
    # committed; a reader wants one snapshot across all tables.
    return conn.execution_options(isolation_level="READ COMMITTED" if write else "REPEATABLE READ")


def bound_lock_waits(conn: Connection, wait: float) -> None:
    """Make lock waits in this transaction fail after ``wait`` seconds (SQLite: at BEGIN)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{max(1, int(wait * 1000))}ms'")
    elif conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {math.ceil(wait)}")


def take_migration_lock(conn: Connection, wait: float) -> bool:
    """Serialize schema changes; False if the lock was not free within ``wait``.

    PostgreSQL: a transaction-scoped advisory lock. MySQL commits DDL
    implicitly, so its named lock is held by the session (freed on close).
    SQLite: the caller's ``BEGIN IMMEDIATE`` already is the lock.
    """
    bound_lock_waits(conn, wait)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATE_KEY)))
    elif conn.dialect.name != "sqlite":
        lock = sa.func.get_lock(_mysql_lock_name(), math.ceil(wait))
        return bool(conn.scalar(sa.select(lock)) == 1)
    return True


def release_migration_lock(conn: Connection) -> None:
    """Free MySQL's named lock: it belongs to the session, which the pool keeps open."""
    if conn.dialect.name in ("mysql", "mariadb") and not conn.invalidated:
        try:
            conn.scalar(sa.select(sa.func.release_lock(_mysql_lock_name())))
        except sa.exc.DBAPIError:
            conn.invalidate()  # ending the session frees the lock too


def _mysql_lock_name() -> sa.ColumnElement[str]:
    return sa.func.concat("stackctl.migrate:", sa.func.database())


# -- driver errors -----------------------------------------------------------------

# PostgreSQL lock_not_available; MySQL lock wait timeout; SQLite busy.
_LOCK_TIMEOUTS = {"55P03", "1205", "SQLITE_BUSY"}
# PostgreSQL admin shutdown / connection failures; MySQL gone away, lost, killed.
_DISCONNECTS = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "2006", "2013", "1927"}
_BAD_LOGIN = "Check the user name and password in the URL."
_NO_DATABASE = "Create the database first: stackctl creates its tables, not the database."
_CONNECT_HINTS = {
    "28P01": _BAD_LOGIN, "28000": _BAD_LOGIN, "1045": _BAD_LOGIN, "1044": _BAD_LOGIN,
    "3D000": _NO_DATABASE, "1049": _NO_DATABASE,
    "SQLITE_CANTOPEN": "Check that the directory of the database file exists and is writable.",
}
_LIBPQ_CONNECT_TEXTS = (
    (r'database "[^"]*" does not exist', _NO_DATABASE),
    (r'password authentication failed|role "[^"]*" does not exist', _BAD_LOGIN),
)
_CONNECT_HINT = "Check that the server is running and reachable, and the URL."


def error_codes(orig: BaseException | None) -> set[str]:
    """SQLSTATE (psycopg, PyMySQL), errno (PyMySQL), SQLite's error name: as text."""
    args: tuple[Any, ...] = getattr(orig, "args", ())
    codes = {str(getattr(orig, "sqlstate", "") or ""), str(getattr(orig, "sqlite_errorname", ""))}
    if args and isinstance(args[0], int):
        codes.add(str(args[0]))
    return codes - {"", "None"}


def is_lock_timeout(orig: BaseException | None) -> bool:
    return bool(error_codes(orig) & _LOCK_TIMEOUTS) or "database is locked" in str(orig)


def is_disconnect(orig: BaseException | None) -> bool:
    return bool(error_codes(orig) & _DISCONNECTS)


def connect_hint(orig: BaseException | None) -> str:
    hints = [_CONNECT_HINTS[code] for code in sorted(error_codes(orig)) if code in _CONNECT_HINTS]
    # libpq reports a refused login before any SQLSTATE exists: only its text tells.
    text = str(orig)
    hints += [hint for pattern, hint in _LIBPQ_CONNECT_TEXTS if re.search(pattern, text)]
    return hints[0] if hints else _CONNECT_HINT


def first_line(orig: BaseException | None, password: str | None) -> str:
    """The driver's message, one line, without the password; never SQL or parameters."""
    from urllib.parse import quote

    args: tuple[Any, ...] = getattr(orig, "args", ())
    # PyMySQL: (errno, message); the others: a message.
    text = str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(orig)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[0] if lines else type(orig).__name__
    if password:
        for form in {password, quote(password, safe="")}:
            line = line.replace(form, "***")
    return line
