"""The SQL profile store: SQLite, PostgreSQL and MySQL/MariaDB via SQLAlchemy Core.

One database holds one profile in the ``stackctl_*`` tables (``sql_schema``),
whose schema the Alembic migrations in ``migrations/`` manage. An apply is one
database transaction that first locks the single ``stackctl_meta`` row
(SQLite: ``BEGIN IMMEDIATE``), so applies from any machine serialize and a
failure leaves nothing half-written. Only ``open_store`` imports this module,
so SQLAlchemy is never loaded by ``stackctl --help``.
"""

from __future__ import annotations

import json
import logging
import os
import uuid as uuidlib
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from stackctl import __version__
from stackctl.errors import LockError, StoreError
from stackctl.model import Component, ComponentType, CustomFlavor, ProfileState, Stack
from stackctl.stores import sql_engine as db
from stackctl.stores import sql_schema as schema
from stackctl.stores.base import (
    Bookkeeping,
    ProfileStore,
    Transaction,
    no_books_to_fill,
    seed_transaction,
)
from stackctl.stores.urls import env_var_of, redact_url

log = logging.getLogger("stackctl")


class SqlStore(ProfileStore):
    store_type = "sql"
    # Test hook: runs inside _commit after the rows are written, before the serial bump.
    after_rows_written: Callable[[Connection], None] | None = None

    def __init__(self, profile: str, url: str) -> None:
        super().__init__(profile, url)
        self._engine: Engine | None = None
        self._schema_ok = False  # revision checked (and upgraded) by this instance
        self._conn: Connection | None = None  # the apply's connection, inside transaction()

    # -- connecting ------------------------------------------------------------

    def _raw_url(self) -> str:
        """The real URL; ``env:VAR`` is read at use, so the URL is never stored."""
        var = env_var_of(self.url)
        if var is None:
            return self.url
        value = os.environ.get(var)
        if not value:
            raise StoreError(
                f"The store URL of profile '{self.profile}' comes from the environment "
                f"variable '{var}', which is not set.",
                hint=f"Export {var} with the URL, e.g. postgresql+psycopg://user:pw@host/db.")
        return value

    def _shown_url(self) -> str:
        shown = redact_url(self._raw_url())
        var = env_var_of(self.url)
        return f"{shown} (from ${var})" if var else shown

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = db.make_engine(self._raw_url(), self.profile)
            # Callers (CLI, Python API) rarely close a store: close its pooled
            # connections when it is collected, not when the driver complains.
            self._release = weakref.finalize(self, self._engine.dispose)
        return self._engine

    def _open(self, *, write: bool) -> Connection:
        try:
            conn = self.engine.connect()
        except sa_exc.DBAPIError as exc:
            raise self._error(exc, connecting=True) from exc
        return db.prepare(conn, write=write)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        conn = self._open(write=False)
        try:
            with conn.begin():
                yield conn
        except sa_exc.DBAPIError as exc:
            raise self._error(exc) from exc
        finally:
            conn.close()

    def close(self) -> None:
        """Release the pooled connections (tests, long-lived callers)."""
        if self._engine is not None:
            self._release()
            self._engine = None

    # -- schema ------------------------------------------------------------------

    def revision(self) -> str | None:
        """The store's schema revision (None: no stackctl schema in the database)."""
        with self._reading() as conn:
            revs = schema.revisions(conn)
        return ",".join(sorted(revs)) if revs else None

    def _ensure_schema(self, *, write: bool = False) -> None:
        """Refuse a newer schema; an older one is upgraded by a writer (an apply), and
        reported to a reader: reads (plan, diff, list, …) need only SELECT, so they
        never change the schema."""
        if self._schema_ok:
            return
        with self._reading() as conn:
            revs = schema.revisions(conn)
            if revs is None or not sa.inspect(conn).has_table(schema.meta.name):
                raise self._not_initialized()
            if revs != {schema.HEAD}:
                self._refuse_unknown(conn, revs)  # before taking any lock: never modify it
        if revs != {schema.HEAD}:
            if not write:
                raise StoreError(
                    f"The store of profile '{self.profile}' at {self._shown_url()} has schema "
                    f"revision {','.join(sorted(revs)) or '(none)'}; this stackctl reads "
                    f"{schema.HEAD}. Reading it needs a migration, which a read never does.",
                    hint=f"Run `stackctl profile migrate {self.profile}` with a writer "
                         "(credentials that may change the schema), or apply.")
            self.migrate()
        self._schema_ok = True

    def migrate(self) -> tuple[str | None, str]:
        """Upgrade the schema to this stackctl's head; return (from, to) revisions."""
        with self._migration_lock() as conn:
            revs = schema.revisions(conn)  # again: another process may have just upgraded
            if revs is None:
                raise self._not_initialized()
            self._refuse_unknown(conn, revs)
            before = ",".join(sorted(revs)) or None
            if revs != {schema.HEAD}:
                schema.upgrade(conn)
                log.info("Upgraded the store of profile '%s' from schema revision %s to %s.",
                         self.profile, before, schema.HEAD)
        self._schema_ok = True
        return before, schema.HEAD

    def _refuse_unknown(self, conn: Connection, revs: set[str]) -> None:
        unknown = revs - schema.known_revisions()
        if not unknown:
            return
        row = conn.execute(sa.select(sa.text("*")).select_from(schema.meta)).first()
        writer = row._mapping.get("stackctl_version") if row is not None else None
        by = f", last written by stackctl {writer}" if writer else ""
        raise StoreError(
            f"The store of profile '{self.profile}' at {self._shown_url()} was created by a "
            f"newer stackctl (schema revision {', '.join(sorted(unknown))}{by}); stackctl "
            f"{__version__} knows revisions up to {schema.HEAD}. The store was not modified.",
            hint="Upgrade stackctl to use this profile.")

    def _not_initialized(self) -> StoreError:
        return StoreError(
            f"The store of profile '{self.profile}' at {self._shown_url()} holds no stackctl "
            "data.", hint="Re-create the profile to initialize the store.")

    @contextmanager
    def _migration_lock(self) -> Iterator[Connection]:
        """A write transaction holding the lock that serializes schema changes."""
        wait = db.lock_timeout()
        conn = self._open(write=True)
        try:
            trans = conn.begin()  # SQLite: BEGIN IMMEDIATE is the lock
            if not db.take_migration_lock(conn, wait):
                raise self._lock_error(wait)
            yield conn
            trans.commit()
        except sa_exc.DBAPIError as exc:
            raise self._error(exc, wait=wait) from exc
        finally:
            db.release_migration_lock(conn)
            conn.close()  # rolls back an unfinished transaction

    # -- reading -----------------------------------------------------------------

    def exists(self) -> bool:
        path = self._sqlite_path()
        if path is not None and not path.exists():
            return False  # connecting would create an empty file
        with self._reading() as conn:
            if not sa.inspect(conn).has_table(schema.meta.name):
                return False
            return conn.execute(sa.select(schema.meta.c.id)).first() is not None

    def load(self) -> ProfileState:
        self._ensure_schema()
        with self._reading() as conn:
            self._read_books(conn)  # refuses a store without its meta row
            return self._read_state(conn)

    def bookkeeping(self) -> Bookkeeping:
        self._ensure_schema()
        with self._reading() as conn:
            return self._read_books(conn)

    def _read_books(self, conn: Connection) -> Bookkeeping:
        meta, managed = schema.meta, schema.managed
        row = conn.execute(sa.select(meta.c.lineage, meta.c.serial).where(meta.c.id == 1)).first()
        if row is None:
            raise self._not_initialized()
        prints: dict[str, str] = {}
        owners: dict[str, str] = {}
        records: dict[str, Mapping[str, Any]] = {}
        for address, print_, owner, record in conn.execute(
                sa.select(managed.c.address, managed.c.fingerprint, managed.c.owner,
                          managed.c.last_applied)):
            prints[address] = print_
            if owner is not None:
                owners[address] = owner
            if record is not None:  # NULL: written before records existed (or by hand)
                records[address] = self._json(record, f"stackctl_managed {address}")
        return Bookkeeping(lineage=row.lineage, serial=row.serial, managed=prints,
                           owners=owners, applied=records)

    def _read_state(self, conn: Connection) -> ProfileState:
        t = schema.components
        comps: dict[tuple[ComponentType, str], Component] = {}
        for row in conn.execute(sa.select(t).order_by(t.c.type, t.c.name)):
            ctype = self._type(row.type)
            comps[(ctype, row.name)] = Component(ctype, row.name, row.flavor, row.uuid,
                                                 self._json(row.config, f"{t.name} {row.name}"))
        stacks: dict[str, Stack] = {}
        for row in conn.execute(sa.select(schema.stacks).order_by(schema.stacks.c.name)):
            members = self._json(row.components, f"stackctl_stacks {row.name}")
            stacks[row.name] = Stack(row.name, {self._type(k): str(v) for k, v in members.items()})
        found: dict[tuple[ComponentType, str], CustomFlavor] = {}
        for row in conn.execute(sa.select(schema.flavors)):
            ctype = self._type(row.type)
            found[(ctype, row.name)] = CustomFlavor(
                ctype, row.name, row.source,
                self._json(row.config_schema, f"stackctl_flavors {row.name}"))
        return ProfileState(components=comps, stacks=stacks, flavors=found)

    def _type(self, text: str) -> ComponentType:
        try:
            return ComponentType(text)
        except ValueError:
            raise StoreError(f"The store of profile '{self.profile}' holds an unknown stack "
                             f"component type '{text}'.",
                             hint="It may come from a newer stackctl; it was not modified.",
                             ) from None

    def _json(self, text: str, where: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise StoreError(f"The store of profile '{self.profile}' is corrupt: {where} is not "
                             "a JSON object.", hint="Restore the database from a backup.")
        return value

    # -- writing -----------------------------------------------------------------

    def initialize(self, seed: ProfileState) -> None:
        self.create(seed, {})

    def create(self, seed: ProfileState, managed: Mapping[str, str],
               owners: Mapping[str, str] | None = None,
               applied: Mapping[str, Mapping[str, Any]] | None = None, *,
               before_books: Callable[[], None] = no_books_to_fill) -> None:
        """Schema, seed and bookkeeping in one transaction (MySQL: its DDL commits first)."""
        before_books()
        path = self._sqlite_path()
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)  # component configs may hold secrets
        with self._migration_lock() as conn:
            revs = schema.revisions(conn)
            if revs:
                self._refuse_unknown(conn, revs)
            if revs != {schema.HEAD}:
                schema.upgrade(conn)
            if conn.execute(sa.select(schema.meta.c.id)).first() is not None:
                raise StoreError(f"The store of profile '{self.profile}' already exists at "
                                 f"{self._shown_url()}.")
            lineage = str(uuidlib.uuid4())
            conn.execute(schema.meta.insert().values(
                id=1, lineage=lineage, serial=1, stackctl_version=__version__))
            self._write_rows(conn, seed_transaction(seed, managed, lineage, owners, applied))
        self._schema_ok = True

    @contextmanager
    def _locked_snapshot(self) -> Iterator[tuple[ProfileState, Bookkeeping]]:
        self._ensure_schema(write=True)
        wait = db.lock_timeout()
        conn = self._open(write=True)
        committing = False
        try:
            trans = conn.begin()  # SQLite: BEGIN IMMEDIATE, waiting up to the busy timeout
            db.bound_lock_waits(conn, wait)
            meta = schema.meta
            conn.execute(sa.select(meta.c.serial).where(meta.c.id == 1).with_for_update())
            snapshot = self._read_state(conn), self._read_books(conn)
            self._conn = conn  # _commit runs inside the caller's with-block, on this connection
            try:
                yield snapshot
            finally:
                self._conn = None
            committing = True
            trans.commit()
        except sa_exc.DBAPIError as exc:
            raise self._error(exc, wait=wait, committing=committing) from exc
        finally:
            conn.close()  # rolls back whatever did not commit

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The store's write lock held and nothing written, on a connection of its own;
        when the block ends it and the engine's pool are closed (a renamed profile's
        SQLite database moves inside the block: no writer is mid-commit beside it)."""
        wait = db.lock_timeout()
        conn = self._open(write=True)
        try:
            conn.begin()  # SQLite: BEGIN IMMEDIATE, waiting up to the busy timeout
            db.bound_lock_waits(conn, wait)
            yield
        except sa_exc.DBAPIError as exc:
            raise self._error(exc, wait=wait) from exc
        finally:
            conn.close()  # rolls back: nothing was written
            self.close()

    def _commit(self, tx: Transaction) -> None:
        conn = self._conn
        assert conn is not None, "_commit runs only inside transaction()"
        self._write_rows(conn, tx)
        if self.after_rows_written is not None:
            self.after_rows_written(conn)
        meta = schema.meta
        done = conn.execute(
            meta.update().where(meta.c.id == 1, meta.c.serial == tx.books_before.serial)
            .values(serial=tx.books_before.serial + 1, stackctl_version=__version__))
        if done.rowcount != 1:  # the row lock makes this impossible; never write blind
            raise StoreError(f"The store of profile '{self.profile}' changed during the apply.",
                             hint="Run the command again.")

    def _write_rows(self, conn: Connection, tx: Transaction) -> None:
        """Insert, update and delete only the rows that differ between before and after."""
        before, after, sync = tx.before, tx.after, schema.sync_rows
        sync(conn, schema.components, before.components, after.components, self._component_row)
        sync(conn, schema.stacks, before.stacks, after.stacks, lambda name, s: {
            "name": name, "components": _dumps({t.value: c for t, c in s.components.items()})})
        sync(conn, schema.flavors, before.flavors, after.flavors, lambda _, f: {
            "type": f.type.value, "name": f.name, "source": f.source,
            "config_schema": _dumps(f.config_schema)})

        def books(prints: Mapping[str, str], owners: Mapping[str, str],
                  records: Mapping[str, Mapping[str, Any]],
                  ) -> dict[str, tuple[str, str | None, str | None]]:
            return {a: (p, owners.get(a), _dumps(records[a]) if a in records else None)
                    for a, p in prints.items()}

        kept = tx.books_before
        sync(conn, schema.managed, books(kept.managed, kept.owners, kept.applied),
             books(tx.managed, tx.owners, tx.applied),
             lambda address, row: {"address": address, "fingerprint": row[0], "owner": row[1],
                                   "last_applied": row[2]})

    def _component_row(self, _: tuple[ComponentType, str], comp: Component) -> dict[str, Any]:
        try:
            config = _dumps(comp.config)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"The config of {comp.address(self.profile)} cannot be stored: "
                             f"{exc}.", hint="Use only JSON values (strings, numbers, "
                             "booleans, null, lists, mappings).") from None
        return {"type": comp.type.value, "name": comp.name, "flavor": comp.flavor,
                "uuid": comp.uuid, "config": config}

    def destroy(self) -> None:
        """Drop stackctl's tables (only on explicit request: a team may share them)."""
        with self._migration_lock() as conn:
            schema.metadata.drop_all(conn)
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {schema.VERSION_TABLE}")
        self._schema_ok = False

    # -- helpers -----------------------------------------------------------------

    def _sqlite_path(self) -> Path | None:
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(str(url.database))

    def _lock_error(self, wait: float) -> LockError:
        return LockError(
            f"Could not lock profile '{self.profile}' within {wait:g}s: another stackctl is "
            f"writing to its store ({self._shown_url()}).",
            hint="Wait for that command to finish, or raise STACKCTL_LOCK_TIMEOUT.")

    def _error(self, exc: sa_exc.DBAPIError, *, connecting: bool = False,
               committing: bool = False, wait: float = 0.0) -> StoreError | LockError:
        """A driver error as a StoreError: redacted URL, one line, a hint; never SQL or data."""
        if db.is_lock_timeout(exc.orig):
            return self._lock_error(wait)
        text = db.first_line(exc.orig, self.engine.url.password)
        where = f"the store of profile '{self.profile}' at {self._shown_url()}"
        if connecting:
            return StoreError(f"Cannot connect to {where}: {text}",
                              hint=db.connect_hint(exc.orig))
        if exc.connection_invalidated or db.is_disconnect(exc.orig):
            if committing:
                return StoreError(f"The connection to {where} was lost while committing: {text}",
                                  hint="The database applied all of the change or none of it; "
                                       "run `stackctl plan` to see which.")
            return StoreError(f"The connection to {where} was lost: {text}",
                              hint="The database rolled the transaction back: nothing was "
                                   "changed. Run the command again.")
        return StoreError(f"Error in {where}: {text}", hint="Run with --debug for details.")


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
