"""The load benchmark, short: 3 writer processes x 5 applies and a reader on one profile.

Per backend (local YAML, SQLite, PostgreSQL, MariaDB): no lost update (every successful
apply's components and stackctl's record of them are there at the end), no internal
error, and every refused apply a clean lock-timeout message. No time is asserted; the
full run with its figures is ``bench/bench_load.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_load

pytestmark = pytest.mark.slow

WRITERS, APPLIES, READERS = 3, 5, 1


def _held(backend: str, store: str, env: dict[str, str]) -> None:
    outcome = bench_load.run_backend(backend, store, env, writers=WRITERS, applies=APPLIES,
                                     readers=READERS)
    assert outcome.problems == []
    assert outcome.applies_ok + outcome.lock_refusals == WRITERS * APPLIES
    assert outcome.applies_ok > 0
    assert outcome.reads_ok > 0


def test_load_held_on_the_local_store() -> None:
    _held("local", "{type: local}", {})


def test_load_held_on_sqlite(tmp_path: Path) -> None:
    _held("sqlite", f"{{type: sql, url: 'sqlite:///{tmp_path / 'load.db'}'}}", {})


@pytest.mark.db
def test_load_held_on_postgresql(postgresql_url: str) -> None:
    _held("postgresql", "{type: sql, urlFromEnv: LOAD_DB_URL}", {"LOAD_DB_URL": postgresql_url})


@pytest.mark.db
def test_load_held_on_mariadb(mariadb_url: str) -> None:
    _held("mariadb", "{type: sql, urlFromEnv: LOAD_DB_URL}", {"LOAD_DB_URL": mariadb_url})


def test_end_state_check_finds_a_lost_update(tmp_path: Path) -> None:
    """The checker bites: an apply reported as successful but absent is a lost update."""
    env = {**os.environ, "STACKCTL_CONFIG_PATH": str(tmp_path / "config")}
    store = "{type: local}"
    applied = bench_load.write_apply_dir(tmp_path / "applies", store, 0, 0)
    bench_load.write_apply_dir(tmp_path / "applies", store, 0, 1)  # never applied
    rc, output, _ = bench_load._run(["apply", str(applied), "--auto-approve"], env, tmp_path)
    assert rc == 0, output
    assert bench_load.check_end_state(tmp_path, env, store, {0: [0]}) == []
    (tmp_path / "exported").rename(tmp_path / "exported-ok")
    (tmp_path / "expected").rename(tmp_path / "expected-ok")
    problems = bench_load.check_end_state(tmp_path, env, store, {0: [0, 1]})
    assert problems[:2] == [
        "lost update: c-w0-001 (applied) is None",
        "lost update: w0 is '/srv/load/w0/0', its last successful apply set '/srv/load/w0/1'"]
    assert problems[2].startswith("lost bookkeeping: the plan of the applied end state is not "
                                  "a no-op that adopts nothing (exit 2)")
