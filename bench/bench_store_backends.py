"""How do the SQL store backends compare with the local YAML store?

For each backend — local (YAML files), SQLite, PostgreSQL, MariaDB — in one
process, times two operations on a store holding N components:

* **commit**: one transaction that adds N components to a freshly created store;
* **load**: what ``plan`` does per store — open it (a new store object, so a new
  engine and the schema check) and read the whole state plus bookkeeping.

Each figure is the best of ``--rounds``; ratios are against the local store
measured in the same run. PostgreSQL (127.0.0.1:5432, postgres) and MariaDB
(127.0.0.1:3306, root) get a scratch database each, dropped afterwards; an
unreachable server is reported and skipped.

    .venv/bin/python bench/bench_store_backends.py [--n 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pymysql

from stackctl.errors import StoreError
from stackctl.model import Component, ComponentType, ProfileState, Stack
from stackctl.stores.base import ProfileStore
from stackctl.stores.local import LocalStore
from stackctl.stores.sql import SqlStore
from stackctl.stores.urls import file_url

PROFILE = "bench"


def seed() -> ProfileState:
    comps = [Component(t, "default", f, str(uuid.uuid4()), cfg) for t, f, cfg in (
        (ComponentType.ORCHESTRATOR, "local", {}),
        (ComponentType.ARTIFACT_STORE, "local", {"path": "/tmp/bench-artifacts"}),
        (ComponentType.METADATA_STORE, "sqlite", {"uri": "/tmp/bench-meta.db"}),
    )]
    stack = Stack("default", {c.type: c.name for c in comps})
    return ProfileState(components={c.key: c for c in comps}, stacks={"default": stack})


def components(n: int) -> list[Component]:
    return [Component(ComponentType.ARTIFACT_STORE, f"artifacts-{i:05d}", "s3", str(uuid.uuid4()),
                      {"path": f"s3://bucket-{i}/zenml", "region": "eu-west-1",
                       "retries": i % 7, "verify": True, "tags": {"team": "ml", "tier": i % 3}})
            for i in range(n)]


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"stackctl_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                         autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                             autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def mariadb_database() -> Iterator[str]:
    name = f"stackctl_bench_{uuid.uuid4().hex[:8]}"
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True,
                            connect_timeout=5)
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@contextmanager
def file_location(kind: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix=f"stackctl-bench-{kind}-") as tmp:
        root = Path(tmp) / "profiles" / PROFILE
        yield file_url(str(root)) if kind == "local" else f"sqlite:///{root / 'stackctl.db'}"


Location = Callable[[], AbstractContextManager[str]]  # yields a fresh store URL


def open_store(backend: str, url: str) -> ProfileStore:
    return LocalStore(PROFILE, url) if backend == "local" else SqlStore(PROFILE, url)


def close(store: ProfileStore) -> None:
    if isinstance(store, SqlStore):
        store.close()


def clear(backend: str, url: str) -> None:
    """Make the location empty again for the next round."""
    store = open_store(backend, url)
    if isinstance(store, SqlStore):
        store.destroy()
        store.close()
    elif store.exists():
        store.destroy()


def measure(backend: str, location: Location, n: int,
            rounds: int) -> tuple[float, float]:
    new = components(n)
    best_commit = best_load = float("inf")
    with location() as url:
        for i in range(rounds):
            if i:
                clear(backend, url)
            store = open_store(backend, url)
            store.initialize(seed())
            started = time.perf_counter()
            with store.transaction() as tx:
                for comp in new:
                    tx.put_component(comp)
            best_commit = min(best_commit, time.perf_counter() - started)
            close(store)
        for _ in range(rounds):
            started = time.perf_counter()
            reader = open_store(backend, url)  # a new process would start this way
            state, books = reader.load(), reader.bookkeeping()
            best_load = min(best_load, time.perf_counter() - started)
            close(reader)
            assert len(state.components) == n + 3, len(state.components)
            assert books.serial == 2
        clear(backend, url)
    return best_commit, best_load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="components in the commit")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = parser.parse_args()

    backends: list[tuple[str, Location]] = [
        ("local", lambda: file_location("local")),
        ("sqlite", lambda: file_location("sqlite")),
        ("postgresql", postgres_database),
        ("mariadb", mariadb_database),
    ]
    results: dict[str, tuple[float, float] | str] = {}
    for name, location in backends:
        try:
            results[name] = measure(name, location, args.n, args.rounds)
        except (psycopg.OperationalError, pymysql.err.OperationalError, StoreError) as exc:
            # A server that is not there is a row of the table, not a crash.
            results[name] = f"skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}"

    base = results.get("local")
    print(f"{args.n} components, best of {args.rounds} rounds (seconds; ratio to local)")
    print(f"{'backend':<11} {'commit':>9} {'ratio':>7} {'load':>9} {'ratio':>7}")
    for name, result in results.items():
        if isinstance(result, str):
            print(f"{name:<11} {result}")
            continue
        commit, load = result
        ratios = (("", "") if not isinstance(base, tuple)
                  else (f"{commit / base[0]:.2f}x", f"{load / base[1]:.2f}x"))
        print(f"{name:<11} {commit:>9.3f} {ratios[0]:>7} {load:>9.3f} {ratios[1]:>7}")


if __name__ == "__main__":
    main()
