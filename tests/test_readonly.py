"""Plans work with read-only credentials: a SELECT-only role on PostgreSQL and MariaDB.

A team's CI plans pull requests with a role that may only read the shared
store; plan, diff, drift, show, export and the list/describe commands must
work with it and write nothing. An old schema is reported, never migrated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbroles import Roles, select_only_roles
from helpers import Cli

pytestmark = pytest.mark.db

PROFILE = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec:
  store: {type: sql, urlFromEnv: TEAM_DB}
  activeStack: main
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: data, profile: team}
spec: {type: artifact_store, flavor: local, config: {path: /srv/data}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: main, profile: team}
spec:
  components: {orchestrator: default, metadata_store: default, artifact_store: data}
"""


@pytest.fixture(params=["postgresql", "mariadb"])
def roles(request: pytest.FixtureRequest) -> Iterator[Roles]:
    yield from select_only_roles(request, request.param)


def test_every_read_command_works_with_a_select_only_role(
        cli: Cli, roles: Roles, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "team.yaml").write_text(PROFILE)
    applied = cli("apply", "-y", "m", env={"TEAM_DB": roles.writer})
    assert applied.rc == 0, applied.err
    roles.grant()
    assert cli("profile", "set", "team", env={"TEAM_DB": roles.writer}).rc == 0
    before = roles.dump()

    read = roles.reader
    plan = cli("plan", "m", "--detailed-exitcode", "-o", "plan.json", env={"TEAM_DB": read})
    assert plan.rc == 0, plan.err
    assert "No changes." in plan.out
    assert cli("diff", "m", env={"TEAM_DB": read}).rc == 0
    assert cli("drift", "m", env={"TEAM_DB": read}).rc == 0
    shown = cli("show", "plan.json", env={"TEAM_DB": read})
    assert shown.rc == 0
    assert shown.out == plan.out
    exported = cli("export", "--profile", "team", "-o", "out", env={"TEAM_DB": read})
    assert exported.rc == 0, exported.err
    assert (tmp_path / "out" / "team.yaml").is_file()
    for args in (("stack", "list"), ("stack", "describe", "main"), ("artifact-store", "list"),
                 ("artifact-store", "describe", "data"), ("profile", "describe", "team"),
                 ("profile", "list")):
        result = cli(*args, env={"TEAM_DB": read})
        assert result.rc == 0, (args, result.err)
    assert "data" in cli("artifact-store", "list", env={"TEAM_DB": read}).out
    assert roles.dump() == before  # the reader wrote nothing

    # the reader cannot apply: a clean error, nothing written
    (tmp_path / "m" / "team.yaml").write_text(PROFILE.replace("/srv/data", "/srv/new"))
    refused = cli("apply", "-y", "m", env={"TEAM_DB": read})
    assert refused.rc == 1
    assert "Traceback" not in refused.err
    assert roles.dump() == before


def test_an_old_schema_is_reported_to_a_reader_not_migrated(
        cli: Cli, roles: Roles, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "team.yaml").write_text(PROFILE)
    assert cli("apply", "-y", "m", env={"TEAM_DB": roles.writer}).rc == 0
    roles.downgrade("0002")
    roles.grant()
    before = roles.dump()
    plan = cli("plan", "m", env={"TEAM_DB": roles.reader})
    assert plan.rc == 1
    assert "has schema revision 0002" in plan.err
    assert "Reading it needs a migration, which a read never does." in plan.err
    assert "hint: Run `stackctl profile migrate team` with a writer" in plan.err
    assert roles.dump() == before
    # the writer migrates; then the reader plans
    assert cli("profile", "migrate", "team", env={"TEAM_DB": roles.writer}).rc == 0
    roles.grant()
    again = cli("plan", "m", "--format", "json", env={"TEAM_DB": roles.reader})
    assert again.rc == 0, again.err
    assert json.loads(again.out)["summary"]["text"] == \
        "Plan: 0 to create, 0 to update, 0 to delete."
