"""Shared pytest fixtures: every test runs isolated from the real home directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private global config dir, no repository env vars, plain output."""
    config = tmp_path_factory.mktemp("stackctl-config")
    monkeypatch.setenv("STACKCTL_CONFIG_PATH", str(config))
    # the read cache lives outside the config dir; keep it out of the real home too
    monkeypatch.setenv("STACKCTL_CACHE_DIR", str(tmp_path_factory.mktemp("stackctl-cache")))
    for var in ("ZENML_CONFIG_PATH", "ZENML_REPOSITORY_PATH", "STACKCTL_REPOSITORY_PATH",
                "STACKCTL_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return config


# --- Imperative CLI fixtures (test_transcripts, test_cli_errors, test_ondisk_layout,
# --- test_python_api, test_startup): run the INSTALLED executables in a subprocess.

import os  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402

from helpers import STACKCTL, Result, run_process  # noqa: E402

Runner = Callable[..., Result]


@pytest.fixture(autouse=True)
def _no_zenml_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ZENML_* setting of the machine leaks into a test."""
    for var in list(os.environ):
        if var.startswith("ZENML_"):
            monkeypatch.delenv(var)


@pytest.fixture
def config_dir() -> Path:
    """The global config directory of this test (set by ``_isolated_env``)."""
    return Path(os.environ["STACKCTL_CONFIG_PATH"])


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory, outside any repository, to run commands in."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def run(workdir: Path) -> Runner:
    """``run("stack", "list", cwd=..., env=..., stdin=...)`` → Result(rc, stdout, stderr)."""

    def _run(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
             stdin: str | None = None) -> Result:
        return run_process([STACKCTL, *args], cwd or workdir, env=env, stdin=stdin)

    return _run


# --- Declarative CLI fixture: ``stackctl ARGS`` run IN-PROCESS (fast), for the
# --- plan/apply tests that make many runs.

from helpers import Cli, CliResult  # noqa: E402


@pytest.fixture
def secrets() -> dict[str, str]:
    """Secret env vars the ``cli`` fixture sets and proves never printed (override per module)."""
    return {}


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        secrets: dict[str, str]) -> Cli:
    """``cli("plan", ..., cwd=..., env=...)`` → CliResult(rc, out, err), run in-process.

    Runs in ``tmp_path`` unless ``cwd`` says otherwise. Whatever the command, it must
    not crash (no traceback, no internal error) and no output may hold a secret.
    """
    from stackctl.cli.main import main

    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    def run_cli(*args: str, cwd: Path | None = None,
                env: Mapping[str, str] | None = None) -> CliResult:
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            patch.chdir(cwd or tmp_path)
            capsys.readouterr()
            rc = main(list(args))
            out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        assert "internal error" not in err, err
        for value in secrets.values():
            assert value not in out + err, f"a secret was printed by stackctl {' '.join(args)}"
        return CliResult(rc, out, err)

    return run_cli


# ---- SQL store: real PostgreSQL and MariaDB servers (owner: SQL profile store) ------
# Each test gets its own database, created here and dropped after. Without a
# server the test skips with the reason; with STACKCTL_REQUIRE_DB=1 (CI) that
# skip is a failure instead.

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
MARIADB_HOST, MARIADB_PORT, MARIADB_USER = "127.0.0.1", 3306, "root"


def _db_unavailable(reason: str) -> None:
    if os.environ.get("STACKCTL_REQUIRE_DB") == "1":
        pytest.fail(f"{reason} (STACKCTL_REQUIRE_DB=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


def _database_name() -> str:
    import uuid

    return f"stackctl_test_{uuid.uuid4().hex[:12]}"


def _pg_connect():
    """An autocommit psycopg connection to the server's ``postgres`` database."""
    import psycopg

    try:
        return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                               autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        _db_unavailable(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as {PG_USER}: "
                        f"{str(exc).strip().splitlines()[0]}")
        raise


def _mariadb_connect():
    """An autocommit PyMySQL connection as root."""
    import pymysql

    try:
        return pymysql.connect(host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER,
                               autocommit=True, connect_timeout=5)
    except pymysql.err.OperationalError as exc:
        _db_unavailable(f"MariaDB is not reachable at {MARIADB_HOST}:{MARIADB_PORT} as "
                        f"{MARIADB_USER}: {exc.args[-1]}")
        raise


@pytest.fixture
def pg_admin():
    """An autocommit admin connection to PostgreSQL (skips without the server)."""
    conn = _pg_connect()
    yield conn
    conn.close()


@pytest.fixture
def mariadb_admin():
    """An autocommit root connection to MariaDB (skips without the server)."""
    conn = _mariadb_connect()
    yield conn
    conn.close()


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; its SQLAlchemy URL."""
    name = _database_name()
    with _pg_connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with _pg_connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh, empty MariaDB database; its SQLAlchemy URL."""
    import pymysql

    name = _database_name()
    admin = _mariadb_connect()
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield f"mysql+pymysql://{MARIADB_USER}@{MARIADB_HOST}:{MARIADB_PORT}/{name}"
    finally:
        with admin.cursor() as cur:
            # Connections a failed test left behind would make DROP wait on their locks.
            cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s", (name,))
            for (conn_id,) in cur.fetchall():
                try:
                    cur.execute(f"KILL {int(conn_id)}")
                except pymysql.err.MySQLError as exc:  # it ended on its own meanwhile
                    if exc.args[0] != 1094:  # ER_NO_SUCH_THREAD
                        raise
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
# ---- end of SQL store fixtures ------------------------------------------------------
