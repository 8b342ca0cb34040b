"""The SQL profile store through the installed CLI: URLs, errors, migrate, team flows.

Every command runs as a real subprocess of the installed ``stackctl`` with a
private config directory. Passwords go into URLs on purpose and must never
come out: not in tables, JSON, errors, or config.yaml when read from an env var.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import Result

from stackctl.model import ComponentType
from stackctl.stores import sql_schema
from stackctl.stores.sql import SqlStore

Runner = Callable[..., Result]


def ok(result: Result) -> Result:
    assert result.rc == 0, f"rc={result.rc}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def failed(result: Result, *, secret: str | None = None) -> str:
    """The error text of a clean failure: exit 1, one Error: line, no traceback, no secret."""
    assert result.rc == 1, f"rc={result.rc}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert "Error: " in result.stderr
    if secret:
        assert secret not in result.stdout + result.stderr
    return result.stderr


@pytest.fixture
def store_at() -> Iterator[Callable[[str], SqlStore]]:
    opened: list[SqlStore] = []

    def make(url: str) -> SqlStore:
        opened.append(SqlStore("team", url))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


# -- schema and packaging -----------------------------------------------------------


def test_head_constant_is_the_head_of_the_shipped_migrations() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(sql_schema.MIGRATIONS))
    assert script.get_heads() == [sql_schema.HEAD]
    assert sql_schema.known_revisions() == {"0001", "0002", "0003", "0004_owner"}
    assert script.get_revision("0002").down_revision == "0001"
    assert script.get_revision("0003").down_revision == "0002"
    assert script.get_revision("0004_owner").down_revision == "0003"


def test_help_does_not_import_sqlalchemy() -> None:
    code = ("import sys\nfrom stackctl.cli.main import main\nrc = main(['--help'])\n"
            "print('LOADED' if 'sqlalchemy' in sys.modules else 'CLEAN', rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("CLEAN 0")


# -- profile create / list / describe --------------------------------------------------


def test_sql_profile_defaults_to_a_private_sqlite_file(run: Runner, config_dir: Path) -> None:
    ok(run("profile", "create", "team", "--store-type", "sql"))
    db_file = config_dir / "profiles" / "team" / "stackctl.db"
    assert db_file.is_file()
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600  # configs may hold secrets
    listed = json.loads(ok(run("profile", "list", "--format", "json")).stdout)
    team = next(p for p in listed if p["profile_name"] == "team")
    assert team["store_type"] == "sql"
    assert team["url"] == f"sqlite:///{db_file}"
    ok(run("profile", "set", "team"))
    stacks = ok(run("stack", "list")).stdout
    assert "default" in stacks


def test_a_default_sqlite_profile_exports_as_a_manifest_that_validates_and_plans_clean(
        run: Runner, config_dir: Path, workdir: Path) -> None:
    """Exported without a URL (the default database is no secret and no path of this
    machine); the schema takes a sql store without url/urlFromEnv as that default."""
    ok(run("profile", "create", "team", "--store-type", "sql"))
    ok(run("profile", "set", "team"))
    ok(run("orchestrator", "register", "runner", "--flavor", "local"))
    ok(run("export", "--profile", "team", "-o", "exported"))
    text = "".join(p.read_text() for p in sorted((workdir / "exported").rglob("*.yaml")))
    assert "type: sql" in text
    assert "url" not in text.replace("urlFromEnv", "")
    ok(run("validate", "exported"))
    planned = ok(run("plan", "exported", "--format", "json"))
    assert json.loads(planned.stdout)["summary"]["update"] == 0, planned.stdout
    assert (config_dir / "profiles" / "team" / "stackctl.db").is_file()


def test_a_sql_store_with_both_url_and_url_from_env_is_a_located_error(
        run: Runner, workdir: Path) -> None:
    (workdir / "p.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: team}\nspec:\n"
        "  store: {type: sql, url: 'sqlite:///x.db', urlFromEnv: TEAM_DB_URL}\n")
    result = run("validate", "p.yaml")
    assert result.rc == 1, result
    assert "p.yaml:5:10: error: spec.store: must not have both url and urlFromEnv" in (
        result.stdout), result.stdout


@pytest.mark.db
def test_passwords_in_urls_are_never_printed(run: Runner, postgresql_url: str,
                                             config_dir: Path) -> None:
    secret = f"pw-{uuid.uuid4().hex[:10]}"  # trust auth: any password is accepted
    url = with_password(postgresql_url, secret)
    created = ok(run("profile", "create", "team", "--store-type", "sql", "--url", url))
    outputs = [created,
               ok(run("profile", "list")),
               ok(run("profile", "list", "--format", "json")),
               ok(run("profile", "describe", "team")),
               ok(run("profile", "describe", "team", "--format", "json")),
               ok(run("profile", "set", "team")),
               ok(run("stack", "list")),
               run("stack", "describe", "nope"),
               run("orchestrator", "register", "default", "--flavor", "local")]
    for result in outputs:
        assert secret not in result.stdout + result.stderr
    listed = json.loads(outputs[2].stdout)
    assert next(p for p in listed if p["profile_name"] == "team")["url"] == (
        with_password(postgresql_url, "***"))
    assert "***" in outputs[1].stdout


@pytest.mark.db
def test_url_from_env_keeps_the_password_out_of_the_config(
        run: Runner, postgresql_url: str, config_dir: Path) -> None:
    secret = f"pw-{uuid.uuid4().hex[:10]}"
    env = {"TEAM_DB_URL": with_password(postgresql_url, secret)}
    ok(run("profile", "create", "team", "--store-type", "sql", "--url-from-env", "TEAM_DB_URL",
           env=env))
    config_text = (config_dir / "config.yaml").read_text()
    assert "env:TEAM_DB_URL" in config_text
    assert secret not in config_text
    assert postgresql_url.rsplit("/", 1)[1] not in config_text  # not even the database name
    assert "env:TEAM_DB_URL" in ok(run("profile", "list", env=env)).stdout
    ok(run("profile", "set", "team", env=env))
    ok(run("orchestrator", "register", "from-env", "--flavor", "local", env=env))
    assert "from-env" in ok(run("orchestrator", "list", env=env)).stdout

    message = failed(run("orchestrator", "list"))  # the variable is not set now
    assert "TEAM_DB_URL" in message
    assert "not set" in message
    ok(run("profile", "set", "default"))
    ok(run("profile", "delete", "team"))  # forgetting a profile needs no connection


def test_url_from_an_unset_env_var_is_refused_up_front(run: Runner, config_dir: Path) -> None:
    message = failed(run("profile", "create", "team", "--store-type", "sql",
                         "--url-from-env", "STACKCTL_TEST_NO_SUCH_VAR"))
    assert "STACKCTL_TEST_NO_SUCH_VAR" in message
    assert "team" not in (config_dir / "config.yaml").read_text()


# -- connection errors -----------------------------------------------------------------

def _closed_port(backend: str) -> str:
    if backend == "postgresql":
        return "postgresql+psycopg://postgres:{pw}@127.0.0.1:1/stackctl"
    return "mysql+pymysql://root:{pw}@127.0.0.1:1/stackctl"


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_closed_port_is_a_clean_error(run: Runner, backend: str, config_dir: Path) -> None:
    secret = f"pw-{uuid.uuid4().hex[:10]}"
    message = failed(run("profile", "create", "team", "--store-type", "sql", "--url",
                         _closed_port(backend).format(pw=secret)), secret=secret)
    assert "Cannot connect to the store of profile 'team' at " in message
    assert ":***@127.0.0.1:1/stackctl" in message
    assert "hint: Check that the server is running and reachable" in message
    assert "team" not in (config_dir / "config.yaml").read_text()  # no half-made profile


@pytest.mark.db
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_missing_database_is_a_clean_error(run: Runner, backend: str,
                                             request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("pg_admin" if backend == "postgresql" else "mariadb_admin")
    secret = f"pw-{uuid.uuid4().hex[:10]}"
    base = ("postgresql+psycopg://postgres@127.0.0.1:5432" if backend == "postgresql"
            else "mysql+pymysql://root@127.0.0.1:3306")
    url = with_password(f"{base}/stackctl_missing_{uuid.uuid4().hex[:8]}", secret)
    if backend == "mariadb":  # root has no password: a wrong one would fail first
        url = url.replace(f":{secret}@", "@")
    message = failed(run("profile", "create", "team", "--store-type", "sql", "--url", url),
                     secret=secret)
    assert "Cannot connect to the store of profile 'team'" in message
    assert "stackctl_missing_" in message
    assert "hint: Create the database first" in message


@pytest.fixture
def mariadb_user(mariadb_admin: object, mariadb_url: str) -> Iterator[tuple[str, str]]:
    """A MariaDB user with a password and rights on this test's database."""
    user, password = f"sc_{uuid.uuid4().hex[:8]}", f"right-{uuid.uuid4().hex[:8]}"
    database = mariadb_url.rsplit("/", 1)[1]
    with mariadb_admin.cursor() as cur:  # type: ignore[attr-defined]
        for host in ("%", "localhost"):
            cur.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'")
            cur.execute(f"GRANT ALL ON `{database}`.* TO '{user}'@'{host}'")
    yield user, password
    with mariadb_admin.cursor() as cur:  # type: ignore[attr-defined]
        for host in ("%", "localhost"):
            cur.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")


@pytest.mark.db
def test_a_wrong_password_is_a_clean_error(run: Runner, mariadb_url: str,
                                           mariadb_user: tuple[str, str]) -> None:
    user, password = mariadb_user
    database = mariadb_url.rsplit("/", 1)[1]
    wrong = f"wrong-{uuid.uuid4().hex[:8]}"
    url = f"mysql+pymysql://{user}:{wrong}@127.0.0.1:3306/{database}"
    message = failed(run("profile", "create", "team", "--store-type", "sql", "--url", url),
                     secret=wrong)
    assert "Access denied" in message
    assert "hint: Check the user name and password" in message
    # The right password works: the error was about the password, not the setup.
    ok(run("profile", "create", "team", "--store-type", "sql", "--url",
           f"mysql+pymysql://{user}:{password}@127.0.0.1:3306/{database}"))


@pytest.mark.parametrize(("url", "expected"), [
    ("not a url", "is not a valid SQLAlchemy URL"),
    ("mysql://u:pw-driver-123@127.0.0.1/db", "No module named 'MySQLdb'"),  # not shipped
    ("oracle://u:pw-driver-123@127.0.0.1/db", "cannot use the store URL"),
])
def test_unusable_urls_are_clean_errors(run: Runner, url: str, expected: str) -> None:
    message = failed(run("profile", "create", "team", "--store-type", "sql", "--url", url),
                     secret="pw-driver-123")
    assert expected in message


# -- migrate, newer stores ---------------------------------------------------------------


def _downgrade(store: SqlStore, revision: str) -> None:
    from alembic import command

    with store.engine.begin() as conn:
        command.downgrade(sql_schema.alembic_config(conn), revision)


def _stamp_future(store: SqlStore) -> None:
    import sqlalchemy as sa

    with store.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {sql_schema.VERSION_TABLE} SET version_num = '0099_x'"))


@pytest.mark.db
def test_profile_migrate_upgrades_an_older_store(
        run: Runner, postgresql_url: str, store_at: Callable[[str], SqlStore]) -> None:
    ok(run("profile", "create", "team", "--store-type", "sql", "--url", postgresql_url))
    _downgrade(store_at(postgresql_url), "0001")
    assert store_at(postgresql_url).revision() == "0001"

    migrated = ok(run("profile", "migrate", "team"))
    assert ("Upgraded the store of profile 'team' from schema revision 0001 to "
            f"{sql_schema.HEAD}." in migrated.stderr)
    assert store_at(postgresql_url).revision() == sql_schema.HEAD
    again = ok(run("profile", "migrate", "team"))
    assert f"already at schema revision {sql_schema.HEAD}" in again.stderr
    assert "has a local store" in ok(run("profile", "migrate", "default")).stderr
    assert "Profile 'nope' not found" in failed(run("profile", "migrate", "nope"))


@pytest.mark.db
def test_a_newer_store_is_refused_by_every_command(
        run: Runner, postgresql_url: str, store_at: Callable[[str], SqlStore]) -> None:
    ok(run("profile", "create", "team", "--store-type", "sql", "--url", postgresql_url))
    ok(run("profile", "set", "team"))
    _stamp_future(store_at(postgresql_url))
    for args in (("stack", "list"), ("orchestrator", "register", "x", "--flavor", "local"),
                 ("profile", "migrate", "team")):
        message = failed(run(*args))
        assert "created by a newer stackctl (schema revision 0099_x" in message
        assert "not modified" in message
    assert store_at(postgresql_url).revision() == "0099_x"


# -- team flows on a server ---------------------------------------------------------------


@pytest.mark.db
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_imperative_flows_on_a_shared_server_store(
        run: Runner, backend: str, request: pytest.FixtureRequest, tmp_path: Path,
        store_at: Callable[[str], SqlStore]) -> None:
    url = str(request.getfixturevalue(f"{backend}_url"))
    ok(run("profile", "create", "team", "--store-type", "sql", "--url", url))
    ok(run("profile", "set", "team"))
    ok(run("orchestrator", "register", "kf", "--flavor", "local"))
    ok(run("artifact-store", "register", "art", "--flavor", "local", "--path", str(tmp_path)))
    ok(run("stack", "register", "shared", "-o", "kf", "-a", "art", "-m", "default"))
    stacks = ok(run("stack", "list")).stdout
    assert "shared" in stacks
    assert "kf" in stacks
    assert "kf" in ok(run("orchestrator", "list")).stdout
    described = ok(run("stack", "describe", "shared")).stdout
    rows = {tuple(cell.strip().lower() for cell in line.strip("┃").split("│"))
            for line in described.splitlines() if line.startswith("┃")}
    assert {("orchestrator", "kf"), ("artifact_store", "art"),
            ("metadata_store", "default")} <= rows  # cells compared lower-cased

    # A teammate with their own config directory joins the same database.
    mate = {"STACKCTL_CONFIG_PATH": str(tmp_path / "mate-config")}
    joined = ok(run("profile", "create", "team", "--store-type", "sql", "--url", url, env=mate))
    assert "Using the existing store" in joined.stderr
    ok(run("profile", "set", "team", env=mate))
    assert "shared" in ok(run("stack", "list", env=mate)).stdout
    ok(run("stack", "delete", "shared", "-y", env=mate))
    assert "shared" not in ok(run("stack", "list")).stdout  # seen by the first user at once

    # Deleting the profile forgets it locally; the team's tables stay.
    ok(run("profile", "set", "default"))
    ok(run("profile", "delete", "team"))
    assert store_at(url).exists()
    assert store_at(url).load().component(ComponentType.ORCHESTRATOR, "kf") is not None
