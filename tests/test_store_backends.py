"""One store suite, every backend: local YAML, SQLite, PostgreSQL, MariaDB.

Each test gets a fresh store (a directory, a file, or a database created for
it); PostgreSQL and MariaDB tests skip without the servers, or fail with
STACKCTL_REQUIRE_DB=1. Tests that only make sense for SQL (schema revisions,
dropped connections) say so and skip on the local store.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackctl.errors import LockError, StoreError
from stackctl.model import Component, ComponentType, CustomFlavor, ProfileState, Stack
from stackctl.stores import lock
from stackctl.stores.base import ProfileStore
from stackctl.stores.local import LocalStore
from stackctl.stores.urls import file_url

BACKENDS = [
    "local",
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.db),
    pytest.param("mariadb", marks=pytest.mark.db),
]
PROFILE = "team"
ORCH, ART, META = (ComponentType.ORCHESTRATOR, ComponentType.ARTIFACT_STORE,
                   ComponentType.METADATA_STORE)


def open_store(backend: str, url: str) -> ProfileStore:
    if backend == "local":
        return LocalStore(PROFILE, url)
    from stackctl.stores.sql import SqlStore

    return SqlStore(PROFILE, url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "local":
        return file_url(str(tmp_path / "profiles" / PROFILE))
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'profiles' / PROFILE / 'stackctl.db'}"
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture
def store_factory(backend: str, store_url: str) -> Iterator[Callable[[], ProfileStore]]:
    """A new store object on this test's fresh store each call (like another process)."""
    opened: list[ProfileStore] = []

    def make() -> ProfileStore:
        store = open_store(backend, store_url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        close = getattr(store, "close", None)
        if close is not None:
            close()


@pytest.fixture
def sql_only(backend: str) -> None:
    if backend == "local":
        pytest.skip("schema revisions and connections exist only for SQL stores")


def comp(ctype: ComponentType, name: str, flavor: str = "local", **config: object) -> Component:
    return Component(ctype, name, flavor, str(uuid.uuid4()), config)


def seed_state() -> ProfileState:
    comps = [
        comp(ORCH, "default"),
        comp(ART, "default", path="/tmp/art"),
        comp(META, "default", "sqlite", uri="/tmp/m.db", upgrade_migration_enabled=True),
        comp(ORCH, "kf", "kubeflow", kubernetes_context="prod", synchronous=False,
             custom_docker_base_image_name=None, retries=3, ratio=0.25,
             labels={"team": "ml", "tiers": ["gold", "silver"],
                     "nested": {"deep": [1, {"x": "ü"}]}}),
        comp(ORCH, "Prod"),  # names are case-sensitive on every backend
        comp(ORCH, "prod"),
    ]
    stacks = [Stack("default", {ORCH: "default", ART: "default", META: "default"}),
              Stack("kf", {ORCH: "kf", ART: "default", META: "default"})]
    return ProfileState(components={c.key: c for c in comps}, stacks={s.name: s for s in stacks})


FLAVOR = CustomFlavor(ORCH, "my-orch", "my_pkg.orchestrators.MyOrchestrator",
                      {"type": "object", "properties": {"host": {"type": "string"}},
                       "additionalProperties": False})


@pytest.fixture
def store(store_factory: Callable[[], ProfileStore]) -> ProfileStore:
    created = store_factory()
    created.initialize(seed_state())
    return created


def test_initialize_and_load_round_trip(store_factory: Callable[[], ProfileStore]) -> None:
    store = store_factory()
    assert not store.exists()
    seed = seed_state()
    store.initialize(seed)
    with store.transaction() as tx:
        tx.put_flavor(FLAVOR)
        tx.mark_managed(f"{PROFILE}/stack/kf", "f" * 32)
        tx.mark_managed(f"{PROFILE}/orchestrator/kf", "a" * 32)

    again = store_factory()  # nothing cached: read back from the backend
    assert again.exists()
    state = again.load()
    assert dict(state.components) == dict(seed.components)
    assert dict(state.stacks) == dict(seed.stacks)
    assert dict(state.flavors) == {(ORCH, "my-orch"): FLAVOR}
    books = again.bookkeeping()
    assert dict(books.managed) == {f"{PROFILE}/stack/kf": "f" * 32,
                                   f"{PROFILE}/orchestrator/kf": "a" * 32}
    assert books.serial == 2
    assert books.lineage


def test_create_writes_seed_flavors_and_managed_records_as_one_store(
        store_factory: Callable[[], ProfileStore]) -> None:
    seed = seed_state()
    seed = ProfileState(components=seed.components, stacks=seed.stacks,
                        flavors={(ORCH, "my-orch"): FLAVOR})
    managed = {f"{PROFILE}/stack/kf": "b" * 32}
    store_factory().create(seed, managed)
    again = store_factory()
    assert again.load() == seed
    books = again.bookkeeping()
    assert dict(books.managed) == managed
    assert books.serial == 1
    with pytest.raises(StoreError, match="already exists"):
        store_factory().create(seed, {})


def test_initialize_refuses_an_existing_store(store: ProfileStore,
                                              store_factory: Callable[[], ProfileStore]) -> None:
    with pytest.raises(StoreError, match="already exists"):
        store_factory().initialize(seed_state())
    assert len(store.load().components) == len(seed_state().components)


def test_updates_and_deletes_reach_the_store(store: ProfileStore,
                                             store_factory: Callable[[], ProfileStore]) -> None:
    with store.transaction() as tx:
        kf = tx.before.component(ORCH, "kf")
        assert kf is not None
        tx.put_component(Component(ORCH, "kf", "kubeflow", kf.uuid, {"kubernetes_context": "dev"}))
        tx.delete_component(ORCH, "Prod")
        tx.delete_stack("kf")
        tx.put_stack(Stack("kf2", {ORCH: "kf", ART: "default", META: "default"}))
        tx.put_flavor(FLAVOR)
        tx.mark_managed(f"{PROFILE}/stack/kf2", "1" * 32)
    with store.transaction() as tx:
        tx.delete_flavor(ORCH, "my-orch")
        tx.mark_managed(f"{PROFILE}/stack/kf2", "2" * 32)

    state = store_factory().load()
    kf = state.component(ORCH, "kf")
    assert kf is not None
    assert dict(kf.config) == {"kubernetes_context": "dev"}
    assert state.component(ORCH, "Prod") is None
    assert state.component(ORCH, "prod") is not None
    assert sorted(state.stacks) == ["default", "kf2"]
    assert dict(state.flavors) == {}
    assert dict(store_factory().bookkeeping().managed) == {f"{PROFILE}/stack/kf2": "2" * 32}


def test_serial_increments_per_commit_and_lineage_is_stable(store: ProfileStore) -> None:
    first = store.bookkeeping()
    for i in range(3):
        with store.transaction() as tx:
            tx.put_component(comp(ORCH, f"o{i}"))
    after = store.bookkeeping()
    assert after.serial == first.serial + 3
    assert after.lineage == first.lineage


def test_a_no_op_transaction_does_not_bump_the_serial(store: ProfileStore) -> None:
    serial = store.bookkeeping().serial
    with store.transaction() as tx:
        existing = tx.before.component(ORCH, "kf")
        assert existing is not None
        tx.put_component(existing)  # the same value again is no change
    assert store.bookkeeping().serial == serial


def test_an_exception_inside_the_block_leaves_the_store_unchanged(store: ProfileStore) -> None:
    before, books = store.load(), store.bookkeeping()
    def change_then_fail() -> None:
        with store.transaction() as tx:
            tx.put_component(comp(ORCH, "half"))
            tx.delete_stack("kf")
            tx.mark_managed("x", "y")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        change_then_fail()
    assert store.load() == before
    assert store.bookkeeping() == books


def change(store: ProfileStore) -> None:
    """A transaction touching every table: a component, a stack, a managed record."""
    with store.transaction() as tx:
        tx.put_component(comp(ORCH, "new"))
        tx.delete_component(ORCH, "Prod")
        tx.delete_stack("kf")
        tx.mark_managed("x", "y")


def test_a_failure_between_row_writes_persists_nothing(store: ProfileStore,
                                                       sql_only: None) -> None:
    before, books = store.load(), store.bookkeeping()

    def fail(_conn: object) -> None:
        raise RuntimeError("injected after the rows were written")

    store.after_rows_written = fail  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="injected"):
        change(store)
    store.after_rows_written = None  # type: ignore[attr-defined]
    assert store.load() == before
    assert store.bookkeeping() == books


CONCURRENT_WRITER = textwrap.dedent("""
    import sys, time, uuid
    from pathlib import Path
    from stackctl.model import Component, ComponentType
    backend, url, tag, go = sys.argv[1:5]
    if backend == "local":
        from stackctl.stores.local import LocalStore as Store
    else:
        from stackctl.stores.sql import SqlStore as Store
    store = Store("team", url)
    store.bookkeeping()  # connected and checked before the start line
    while not Path(go).exists():
        time.sleep(0.005)
    for i in range(20):
        with store.transaction() as tx:
            tx.put_component(Component(ComponentType.ORCHESTRATOR, f"{tag}-{i}", "local",
                                       str(uuid.uuid4()), {"i": i}))
""")


def test_concurrent_writers_in_two_processes_lose_no_update(
        store: ProfileStore, backend: str, store_url: str, tmp_path: Path) -> None:
    serial = store.bookkeeping().serial
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, backend, store_url, tag,
                               str(go)], stderr=subprocess.PIPE, text=True)
             for tag in ("a", "b")]
    time.sleep(0.5)
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    names = {c.name for c in store.load().components_of(ORCH)}
    assert {f"{t}-{i}" for t in "ab" for i in range(20)} <= names
    assert store.bookkeeping().serial == serial + 40


def test_a_lock_held_longer_than_the_timeout_is_a_lock_error(
        store: ProfileStore, store_factory: Callable[[], ProfileStore],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKCTL_LOCK_TIMEOUT", "1")
    monkeypatch.setattr(lock, "DEFAULT_TIMEOUT", 1.0)  # the local store reads it at import
    other = store_factory()
    other.load()
    with store.transaction() as tx:
        tx.put_component(comp(ORCH, "holder"))
        started = time.monotonic()
        with pytest.raises(LockError, match=r"profile 'team'.*1s") as err, \
                other.transaction() as other_tx:
            other_tx.put_component(comp(ORCH, "waiter"))
        assert 0.8 < time.monotonic() - started < 15
        assert "STACKCTL_LOCK_TIMEOUT" in str(err.value)
    with other.transaction() as other_tx:  # free again once the holder committed
        other_tx.put_component(comp(ORCH, "waiter"))
    names = {c.name for c in store_factory().load().components_of(ORCH)}
    assert {"holder", "waiter"} <= names


def _set_revision(store: ProfileStore, revision: str) -> None:
    import sqlalchemy as sa

    from stackctl.stores import sql_schema

    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.text(f"UPDATE {sql_schema.VERSION_TABLE} SET version_num = :r"),
                     {"r": revision})


def test_a_store_from_a_newer_stackctl_is_refused_and_untouched(
        store: ProfileStore, store_factory: Callable[[], ProfileStore], sql_only: None) -> None:
    from stackctl.stores.sql import SqlStore

    books = store.bookkeeping()
    _set_revision(store, "0099_future")
    for action in (lambda s: s.load(), lambda s: s.bookkeeping(), lambda s: s.migrate()):
        fresh = store_factory()
        assert isinstance(fresh, SqlStore)
        with pytest.raises(StoreError, match="newer stackctl") as err:
            action(fresh)
        assert "0099_future" in str(err.value)
        assert "not modified" in str(err.value)
    fresh = store_factory()
    with pytest.raises(StoreError, match="newer stackctl"), fresh.transaction() as tx:
        tx.put_component(comp(ORCH, "never"))
    assert isinstance(fresh, SqlStore)
    assert fresh.revision() == "0099_future"
    _set_revision(store, "0003")
    assert store_factory().bookkeeping() == books
    assert store_factory().load().component(ORCH, "never") is None


def test_an_older_schema_is_upgraded_on_first_use(
        store: ProfileStore, store_factory: Callable[[], ProfileStore], sql_only: None) -> None:
    from alembic import command

    from stackctl.stores import sql_schema
    from stackctl.stores.sql import SqlStore

    expected, books = store.load(), store.bookkeeping()
    assert isinstance(store, SqlStore)
    with store.engine.begin() as conn:
        command.downgrade(sql_schema.alembic_config(conn), "0001")
    assert store.revision() == "0001"

    old = store_factory()
    assert isinstance(old, SqlStore)
    assert old.load() == expected  # upgraded first, then read
    assert old.revision() == sql_schema.HEAD
    assert old.bookkeeping() == books
    with old.transaction() as tx:  # and writable at the new revision
        tx.put_component(comp(ORCH, "after-upgrade"))
    assert store_factory().load().component(ORCH, "after-upgrade") is not None


@pytest.mark.db
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_connection_dropped_mid_commit_persists_nothing(
        store: ProfileStore, store_factory: Callable[[], ProfileStore], backend: str,
        request: pytest.FixtureRequest) -> None:
    """Kill the apply's server session between its row writes and its serial bump."""
    import sqlalchemy as sa

    admin = request.getfixturevalue("pg_admin" if backend == "postgresql" else "mariadb_admin")
    before, books = store.load(), store.bookkeeping()

    def kill_own_session(conn: sa.Connection) -> None:
        if backend == "postgresql":
            pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        else:
            conn_id = conn.scalar(sa.text("SELECT CONNECTION_ID()"))
            with admin.cursor() as cur:
                cur.execute(f"KILL {int(conn_id)}")

    store.after_rows_written = kill_own_session  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match=r"connection .* was lost") as err:
        change(store)
    assert "nothing was changed" in str(err.value.hint)
    assert "Traceback" not in str(err.value)
    store.after_rows_written = None  # type: ignore[attr-defined]

    fresh = store_factory()
    assert fresh.load() == before
    assert fresh.bookkeeping() == books
    with store.transaction() as tx:  # the same store object recovers: a new connection
        tx.put_component(comp(ORCH, "after"))
    assert store_factory().load().component(ORCH, "after") is not None


def test_a_store_dropped_without_close_leaves_no_open_connection(
        store: ProfileStore, backend: str, store_url: str) -> None:
    """The CLI and the Python API never close stores: collection must not leak sessions."""
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dropped = open_store(backend, store_url)
        dropped.load()
        del dropped
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
