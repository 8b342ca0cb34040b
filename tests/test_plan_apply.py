"""plan, diff, apply, drift and export: the GitOps loop, end to end.

Most commands run in-process through ``stackctl.cli.main.main`` (fast); what
depends on the process itself (exit codes of the installed script, TTY
confirmation) runs the real ``stackctl`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import Cli

from stackctl.compiler.compile import compile_manifests
from stackctl.compiler.project import Inputs
from stackctl.plan.compute import compute_plan
from stackctl.plan.live import read_live
from stackctl.plan.model import Plan
from stackctl.report.plan_markdown import render as render_markdown
from stackctl.workspace import Workspace

STACKCTL = str(Path(sys.executable).with_name("stackctl"))
GOLDEN = Path(__file__).resolve().parent / "golden"
S3_SECRET = "aws-s3cr3t-value-7731"
DB_PASSWORD = "db-pa55word-value-9912"
SECRETS = (S3_SECRET, DB_PASSWORD)


@pytest.fixture
def secrets() -> dict[str, str]:
    return {"S3_SECRET": S3_SECRET, "DB_PASSWORD": DB_PASSWORD}


def _run_installed(*args: str, cwd: Path, env: dict[str, str] | None = None,
                   **kwargs: object) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "S3_SECRET": S3_SECRET, "DB_PASSWORD": DB_PASSWORD, **(env or {})}
    return subprocess.run([STACKCTL, *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, check=False, timeout=120, **kwargs)  # type: ignore[call-overload]


PROFILES = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {store: {type: local}, activeStack: cloud}
---
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {name: global}
spec: {activeProfile: team}
"""
COMPONENTS = """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: s3, profile: team}
spec:
  type: artifact_store
  flavor: s3
  config: {path: s3://ml/old, secret: "{{ env.S3_SECRET }}"}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: mysql, profile: team}
spec:
  type: metadata_store
  flavor: mysql
  config: {host: db.internal, database: zenml, password: "{{ env.DB_PASSWORD }}"}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: local, profile: team}
spec: {type: orchestrator, flavor: local}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: scratch, profile: team}
spec: {type: artifact_store, flavor: local, config: {path: /tmp/stackctl-test-scratch}}
"""
STACKS = """\
apiVersion: stackctl/v1
kind: Stack
metadata: {name: cloud, profile: team}
spec: {components: {orchestrator: local, artifact_store: s3, metadata_store: mysql}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: edge, profile: team}
spec: {components: {orchestrator: local, artifact_store: s3, metadata_store: default}}
"""


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "profiles.yaml").write_text(PROFILES)
    (root / "components.yaml.j2").write_text(COMPONENTS)
    (root / "stacks.yaml").write_text(STACKS)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _remove_document(path: Path, name: str) -> None:
    docs = path.read_text().split("---\n")
    kept = [d for d in docs if f"name: {name}," not in d]
    assert len(kept) == len(docs) - 1
    path.write_text("---\n".join(kept))


def _component_config(kind: str, name: str, profile: str = "team") -> dict[str, object]:
    from stackctl.model import ComponentType

    comp = Workspace().state(profile).component(ComponentType(kind), name)
    assert comp is not None
    return dict(comp.config)


def _core_plan(paths: list[Path], *, prune: bool = False) -> Plan:
    compiled = compile_manifests(Inputs(paths=tuple(map(str, paths))))
    assert compiled.ok, compiled.diagnostics
    ws = Workspace()
    live = read_live(ws, compiled.desired.profiles, compiled.desired.repositories)
    return compute_plan(compiled.desired, live, inputs={"paths": [str(p) for p in paths]},
                        prune=prune)


# -- create / update / delete / no-op -------------------------------------------------------


def test_first_plan_creates_everything(cli: Cli, manifests: Path) -> None:
    result = cli("plan", str(manifests))
    assert result.rc == 0
    lines = result.out.splitlines()
    assert [line for line in lines if line and line[0] in "+~-="] == [
        "+ create profile/team",
        "+ create team/artifact_store/s3",
        "+ create team/artifact_store/scratch",
        "+ create team/metadata_store/mysql",
        "+ create team/orchestrator/local",
        "+ create team/stack/cloud",
        "+ create team/stack/edge",
        "~ update global",
    ]
    assert "      config.path: s3://ml/old" in lines
    assert "      config.secret: (sensitive)" in lines
    assert "      config.password: (sensitive)" in lines
    assert "      active_profile: null → team" in lines
    # the new profile's default stack is created too: counted, mentioned on one line
    assert lines[4] == ("      + 4 default objects every new profile starts with "
                        "(artifact_store/default, metadata_store/default, orchestrator/default, "
                        "stack/default)")
    assert not any(line.startswith("Unmanaged") for line in lines)
    assert lines[-1] == "Plan: 11 to create, 1 to update, 0 to delete."


def test_apply_then_update_create_delete_and_noop(cli: Cli, manifests: Path) -> None:
    assert cli("apply", "--auto-approve", str(manifests)).rc == 0
    again = cli("plan", str(manifests))
    assert again.out.splitlines()[0] == "= 7 unchanged resources"
    assert again.out.splitlines()[-1] == ("No changes. The live configuration matches the "
                                          "manifests.")

    components = manifests / "components.yaml.j2"
    _edit(components, "s3://ml/old", "s3://ml/new")
    _remove_document(components, "scratch")
    (manifests / "more.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: registry, profile: team}\n"
        "spec: {type: container_registry, flavor: default, config: {uri: localhost:5000}}\n")
    plan = cli("plan", "--prune", str(manifests))
    assert plan.rc == 0
    # creates and updates by phase (flavors, components, stacks…) then address; deletes last
    assert plan.out.splitlines() == [
        "~ update team/artifact_store/s3",
        "      config.path: s3://ml/old → s3://ml/new",
        "      used by: stack 'cloud' (globally active), stack 'edge'",
        "+ create team/container_registry/registry",
        "      config.authentication_secret: null",
        "      config.uri: localhost:5000",
        "      flavor: default",
        "- delete team/artifact_store/scratch",
        "= 5 unchanged resources",
        "",
        "Unmanaged (not in the manifests, never touched): 4",
        "  team/artifact_store/default",
        "  team/metadata_store/default",
        "  team/orchestrator/default",
        "  team/stack/default",
        "",
        "Plan: 1 to create, 1 to update, 1 to delete.",
    ]
    # Without --prune the gone component is listed, and kept.
    kept = cli("plan", str(manifests))
    assert "Managed by stackctl but gone from the manifests (deleted only with --prune):\n" \
           "  team/artifact_store/scratch\n" in kept.out
    assert kept.out.splitlines()[-1] == "Plan: 1 to create, 1 to update, 0 to delete."
    assert cli("apply", "-y", str(manifests)).rc == 0
    assert _component_config("artifact_store", "scratch")["path"] == "/tmp/stackctl-test-scratch"
    assert _component_config("artifact_store", "s3")["path"] == "s3://ml/new"

    applied = cli("apply", "-y", "--prune", str(manifests))
    assert applied.rc == 0
    assert "Deleted team/artifact_store/scratch" in applied.err
    assert "Apply complete: 0 created, 0 updated, 1 deleted." in applied.err
    state = Workspace().state("team")
    assert sorted(n for (_, n) in state.components) == [
        "default", "default", "default", "local", "mysql", "registry", "s3"]
    assert cli("plan", "--detailed-exitcode", "--prune", str(manifests)).rc == 0


def test_secret_update_is_shown_as_sensitive(cli: Cli, manifests: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    plan = cli("plan", str(manifests), env={"S3_SECRET": "rotated-" + S3_SECRET[::-1]})
    assert "      config.secret: (sensitive) → (sensitive)" in plan.out.splitlines()
    for fmt in ("json", "markdown"):
        shown = cli("plan", "--format", fmt, str(manifests),
                    env={"S3_SECRET": "rotated-" + S3_SECRET[::-1]})
        assert "(sensitive)" in shown.out
        assert "rotated-" not in shown.out


# -- impact ----------------------------------------------------------------------------------


def test_impact_names_stacks_and_where_they_are_active(cli: Cli, manifests: Path,
                                                       tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (manifests / "repo.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: project}\n"
        "spec: {path: ../project, activeProfile: team, activeStack: edge}\n")
    assert cli("validate", str(manifests)).rc == 1  # ../project is outside the manifests
    (manifests / "repo.yaml").unlink()
    manifests_in_project = project / "stackctl"
    manifests.rename(manifests_in_project)
    (manifests_in_project / "repo.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: project}\n"
        "spec: {path: .., activeProfile: team, activeStack: edge}\n")
    (project / "stackctl.yaml").write_text("manifests: [stackctl]\n")
    assert cli("apply", "-y", cwd=project).rc == 0
    _edit(manifests_in_project / "components.yaml.j2", "host: db.internal", "host: db2.internal")
    _edit(manifests_in_project / "components.yaml.j2", "s3://ml/old", "s3://ml/new")
    plan = cli("plan", cwd=project).out.splitlines()
    s3 = plan.index("~ update team/artifact_store/s3")
    assert plan[s3 + 2] == (f"      used by: stack 'cloud' (globally active), stack 'edge' "
                            f"(active in repository {project})")
    mysql = plan.index("~ update team/metadata_store/mysql")
    assert plan[mysql + 1:mysql + 3] == ["      config.host: db.internal → db2.internal",
                                         "      used by: stack 'cloud' (globally active)"]
    as_json = json.loads(cli("plan", "--format", "json", cwd=project).out)
    impact = {c["address"]: c["impact"] for c in as_json["changes"] if c["action"] == "update"}
    assert impact["team/metadata_store/mysql"] == ["stack 'cloud' (globally active)"]


# -- drift -----------------------------------------------------------------------------------


def test_drift_is_shown_apart_and_reported_by_drift(cli: Cli, manifests: Path,
                                                    tmp_path: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    assert cli("drift", str(manifests)).rc == 0
    # out of band, with the imperative CLI
    assert cli("artifact-store", "update", "s3", "--path=s3://ml/hand-edited").rc == 0
    assert cli("orchestrator", "delete", "local").rc == 1  # in use: refused, nothing changed
    plan = cli("plan", str(manifests)).out
    assert plan.split("\n\n")[0].splitlines()[:2] == [
        "~ update team/artifact_store/s3",
        "      config.path: s3://ml/hand-edited → s3://ml/old  (reverts a change made outside "
        "stackctl)",
    ]
    assert ("Drift (live changed outside stackctl since its last apply):\n"
            "  ! team/artifact_store/s3: changed\n"
            "        config.path: s3://ml/old → s3://ml/hand-edited\n") in plan

    drift = _run_installed("drift", "--format", "json", str(manifests), cwd=tmp_path)
    assert drift.returncode == 2
    assert json.loads(drift.stdout) == {
        "format_version": 1,
        "drift": [{"address": "team/artifact_store/s3", "detail": "changed", "fields": [
            {"path": "config.path", "old": "s3://ml/old", "new": "s3://ml/hand-edited"}]}]}
    text = cli("drift", str(manifests))
    assert (text.rc, text.out) == (2, "! team/artifact_store/s3: changed\n"
                                      "      config.path: s3://ml/old → s3://ml/hand-edited\n")

    # a manifest change is not drift: it shows as a change only
    _edit(manifests / "components.yaml.j2", "host: db.internal", "host: db2.internal")
    plan_json = json.loads(cli("plan", "--format", "json", str(manifests)).out)
    assert [d["address"] for d in plan_json["drift"]] == ["team/artifact_store/s3"]
    assert {c["address"] for c in plan_json["changes"] if c["action"] == "update"} == {
        "team/artifact_store/s3", "team/metadata_store/mysql"}

    # applying puts live back as the manifests say, and the drift is gone
    assert cli("apply", "-y", str(manifests)).rc == 0
    assert cli("drift", str(manifests)).rc == 0


def test_drift_of_a_deleted_resource(cli: Cli, manifests: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    assert cli("artifact-store", "delete", "scratch").rc == 0
    result = cli("drift", "--format", "json", str(manifests))
    assert result.rc == 2
    assert json.loads(result.out)["drift"] == [
        {"address": "team/artifact_store/scratch", "detail": "deleted", "fields": []}]
    assert "+ create team/artifact_store/scratch" in cli("plan", str(manifests)).out


# -- ownership -------------------------------------------------------------------------------


def test_prune_deletes_only_managed_resources(cli: Cli, manifests: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    assert cli("artifact-store", "register", "handmade", "--flavor", "local",
               "--path=/tmp/handmade").rc == 0
    plan = cli("plan", "--prune", str(manifests))
    assert "  team/artifact_store/handmade\n" in plan.out
    assert "Unmanaged (not in the manifests, never touched): 5" in plan.out
    assert plan.out.splitlines()[-1] == "No changes. The live configuration matches the manifests."
    data = json.loads(cli("plan", "--prune", "--format", "json", str(manifests)).out)
    assert "team/artifact_store/handmade" in data["unmanaged"]
    assert data["summary"]["unmanaged"] == 5

    (manifests / "stacks.yaml").unlink()
    _edit(manifests / "profiles.yaml", "activeStack: cloud", "activeStack: default")
    _remove_document(manifests / "components.yaml.j2", "scratch")
    assert cli("apply", "-y", "--prune", str(manifests)).rc == 0
    state = Workspace().state("team")
    assert sorted(state.stacks) == ["default"]
    names = sorted(n for (_, n) in state.components)
    assert names == ["default", "default", "default", "handmade", "local", "mysql", "s3"]


def test_deleting_a_component_in_use_is_refused_at_plan_time(cli: Cli, manifests: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    # a hand-made stack uses the managed `scratch` store
    assert cli("stack", "register", "handstack", "-o", "default", "-a", "scratch",
               "-m", "default").rc == 0
    _remove_document(manifests / "components.yaml.j2", "scratch")
    before = Workspace().state("team")
    result = cli("plan", "--prune", str(manifests))
    assert result.rc == 1
    assert "Error: The plan would break the live configuration:" in result.err
    assert ("team/artifact_store/scratch: Unable to delete stack component (type: "
            "artifact_store, name: scratch) that is part of a registered stack (stack name: "
            "'handstack')") in result.err
    assert cli("apply", "-y", "--prune", str(manifests)).rc == 1
    assert Workspace().state("team") == before
    # without --prune nothing is deleted: the plan is fine
    assert cli("plan", str(manifests)).rc == 0


def test_a_stack_missing_a_deleted_component_is_refused(cli: Cli, manifests: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    _remove_document(manifests / "stacks.yaml", "edge")
    _remove_document(manifests / "components.yaml.j2", "scratch")
    assert cli("plan", "--prune", str(manifests)).rc == 0
    # removing `s3` while the manifest stack `cloud` still names it is a manifest error
    _remove_document(manifests / "components.yaml.j2", "s3")
    result = cli("plan", "--prune", str(manifests))
    assert result.rc == 1
    assert "[stack-unknown-component]" in result.err


# -- saved plans -----------------------------------------------------------------------------


def _save(cli: Cli, manifests: Path, tmp_path: Path, name: str = "plan.json",
          **env: str) -> Path:
    out = tmp_path / name
    assert cli("plan", str(manifests), "-o", str(out), env=env or None).rc == 0
    return out


def test_saved_plan_holds_no_secret_and_applies_once(cli: Cli, manifests: Path,
                                                     tmp_path: Path) -> None:
    planfile = _save(cli, manifests, tmp_path)
    raw = planfile.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in raw
    assert oct(planfile.stat().st_mode & 0o777) == "0o600"
    data = json.loads(raw)
    assert data["format_version"] == 2
    assert re.fullmatch(r"[0-9a-f-]{36}", data["id"])
    assert data["desired_prints"]["team/artifact_store/s3"]
    assert "team/artifact_store/s3" in data["reads"]

    first = cli("apply", str(planfile))  # a saved plan needs no confirmation
    assert first.rc == 0, first.err
    assert "Apply complete: 11 created, 1 updated, 0 deleted." in first.err
    assert _component_config("artifact_store", "s3")["secret"] == S3_SECRET
    second = cli("apply", str(planfile))
    assert second.rc == 1
    assert f"Error: Plan {data['id']} has already been applied." in second.err


def test_saved_plan_refused_when_an_object_it_read_changed(cli: Cli, manifests: Path,
                                                           tmp_path: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    _edit(manifests / "components.yaml.j2", "s3://ml/old", "s3://ml/new")
    planfile = _save(cli, manifests, tmp_path)
    assert cli("artifact-store", "update", "s3", "--path=s3://ml/hand").rc == 0
    result = cli("apply", str(planfile))
    assert result.rc == 1
    assert ("Error: The saved plan is stale:\n"
            "  team/artifact_store/s3: changed since the plan was made") in result.err
    assert _component_config("artifact_store", "s3")["path"] == "s3://ml/hand"


def test_saved_plan_survives_unrelated_changes(cli: Cli, manifests: Path,
                                               tmp_path: Path) -> None:
    from stackctl.model import Component, ComponentType

    assert cli("apply", "-y", str(manifests)).rc == 0
    assert cli("profile", "create", "other").rc == 0
    _edit(manifests / "components.yaml.j2", "s3://ml/old", "s3://ml/new")
    planfile = _save(cli, manifests, tmp_path)
    # another profile's component, and a new hand-made one in the planned profile
    with Workspace().store("other").transaction() as tx:
        tx.put_component(Component(ComponentType.ARTIFACT_STORE, "elsewhere", "local", "u-1",
                                   {"path": "/tmp/elsewhere"}))
    with Workspace().store("team").transaction() as tx:
        tx.put_component(Component(ComponentType.ORCHESTRATOR, "handmade", "local", "u-2", {}))
    assert cli("profile", "create", "third").rc == 0  # the global config changes too
    result = cli("apply", str(planfile))
    assert result.rc == 0, result.err
    assert _component_config("artifact_store", "s3")["path"] == "s3://ml/new"


def test_saved_plan_refused_when_a_secret_changed(cli: Cli, manifests: Path,
                                                  tmp_path: Path) -> None:
    planfile = _save(cli, manifests, tmp_path)
    result = cli("apply", str(planfile), env={"S3_SECRET": "another-secret-value"})
    assert result.rc == 1
    assert ("  team/artifact_store/s3: the manifests or a secret value differ from the "
            "plan's") in result.err
    assert "team/metadata_store/mysql" not in result.err
    assert "another-secret-value" not in result.err
    assert not Workspace().config().profile("team")
    # the same secret as at plan time: fine
    assert cli("apply", str(planfile)).rc == 0


def test_saved_plan_refused_for_another_lineage(cli: Cli, manifests: Path,
                                                tmp_path: Path, config_dir: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    _edit(manifests / "components.yaml.j2", "s3://ml/old", "s3://ml/new")
    planfile = _save(cli, manifests, tmp_path)
    state_file = config_dir / "profiles" / "team" / ".stackctl" / "state.json"
    state = json.loads(state_file.read_text())
    state["lineage"] = "00000000-0000-0000-0000-000000000000"
    state_file.write_text(json.dumps(state))
    result = cli("apply", str(planfile))
    assert result.rc == 1
    assert "profile/team: the store was replaced (lineage differs)" in result.err


def test_saved_plan_takes_no_other_inputs(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    planfile = _save(cli, manifests, tmp_path)
    result = cli("apply", "--prune", str(planfile))
    assert result.rc == 1
    assert "A saved plan carries its own inputs" in result.err


def test_saved_plan_keeps_var_values_out_and_checks_them_again(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "templated"
    root.mkdir()
    (root / "store.yaml.j2").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: s3}\n"
        "spec:\n  type: artifact_store\n  flavor: s3\n  config:\n"
        "    path: s3://bucket/zenml\n    secret: '{{ vars.s3_secret }}'\n")
    planfile = tmp_path / "var.plan"
    token = "var-only-s3cr3t-4455"
    assert cli("plan", str(root), "--var", f"s3_secret={token}", "-o", str(planfile)).rc == 0
    saved = planfile.read_text()
    assert token not in saved
    assert json.loads(saved)["inputs"]["variables"][0]["name"] == "s3_secret"
    missing = cli("apply", str(planfile))
    assert missing.rc == 1
    assert "Missing: s3_secret." in missing.err
    wrong = cli("apply", str(planfile), "--var", "s3_secret=another-value")
    assert wrong.rc == 1
    assert "--var values differ from the plan's: s3_secret." in wrong.err
    extra = cli("apply", str(planfile), "--var", f"s3_secret={token}", "--var", "x=1")
    assert extra.rc == 1
    assert "Not in the plan: x." in extra.err
    applied = cli("apply", str(planfile), "--var", f"s3_secret={token}")
    assert applied.rc == 0, applied.err
    # + the default profile, with its default stack
    assert "Apply complete: 6 created, 0 updated, 0 deleted." in applied.err


# -- confirmation ----------------------------------------------------------------------------


def test_apply_without_a_terminal_needs_auto_approve(manifests: Path, tmp_path: Path) -> None:
    result = _run_installed("apply", str(manifests), cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "Error: Refusing to apply without confirmation: no terminal to ask on." in result.stderr
    assert "Plan: 11 to create, 1 to update, 0 to delete." in result.stdout
    assert not Workspace().config().profile("team")


@pytest.mark.parametrize(("answer", "applied"), [("y", True), ("n", False)])
def test_apply_asks_on_a_terminal(manifests: Path, tmp_path: Path, answer: str,
                                  applied: bool) -> None:
    primary, secondary = os.openpty()
    try:
        os.write(primary, f"{answer}\n".encode())
        result = _run_installed("apply", str(manifests), cwd=tmp_path, stdin=secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert "Apply these changes? [y/N]: " in result.stderr
    assert not result.stdout.endswith(" ")  # the whole prompt is on stderr, none on stdout
    assert result.returncode == (0 if applied else 1)
    assert ("Apply complete: 11 created" in result.stderr) is applied
    assert bool(Workspace().config().profile("team")) is applied


# -- exit codes ------------------------------------------------------------------------------


def test_diff_exit_codes(manifests: Path, tmp_path: Path) -> None:
    changes = _run_installed("diff", str(manifests), cwd=tmp_path)
    assert changes.returncode == 1
    assert changes.stdout.splitlines()[0] == "+ create profile/team"
    assert "Plan:" not in changes.stdout  # diff-only output
    assert _run_installed("apply", "-y", str(manifests), cwd=tmp_path).returncode == 0
    none = _run_installed("diff", str(manifests), cwd=tmp_path)
    assert (none.returncode, none.stdout) == (0, "")
    assert "No differences." in none.stderr
    error = _run_installed("diff", str(tmp_path / "missing"), cwd=tmp_path)
    assert error.returncode == 2
    assert "manifest path" in error.stderr


def test_plan_detailed_exitcode(manifests: Path, tmp_path: Path) -> None:
    assert _run_installed("plan", str(manifests), cwd=tmp_path).returncode == 0
    assert _run_installed("plan", "--detailed-exitcode", str(manifests),
                          cwd=tmp_path).returncode == 2
    broken = _run_installed("plan", "--detailed-exitcode", str(tmp_path / "missing"),
                            cwd=tmp_path)
    assert broken.returncode == 1
    assert _run_installed("apply", "-y", str(manifests), cwd=tmp_path).returncode == 0
    assert _run_installed("plan", "--detailed-exitcode", str(manifests),
                          cwd=tmp_path).returncode == 0


# -- formats ---------------------------------------------------------------------------------


def test_json_round_trips(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    _edit(manifests / "components.yaml.j2", "s3://ml/old", "s3://ml/new")
    _remove_document(manifests / "components.yaml.j2", "scratch")
    plan = _core_plan([manifests], prune=True)
    assert plan.counts == {"create": 0, "update": 1, "delete": 1, "no-op": 5}
    assert Plan.from_dict(json.loads(plan.to_json())) == plan
    shown = json.loads(cli("plan", "--prune", "--format", "json", str(manifests)).out)
    assert json.loads(Plan.from_dict(shown).to_json()) == shown
    assert shown["summary"] == {"create": 0, "update": 1, "delete": 1, "no-op": 5,
                                "text": "Plan: 0 to create, 1 to update, 1 to delete.",
                                "drift": 0, "unmanaged": 4}
    update = next(c for c in shown["changes"] if c["action"] == "update")
    assert update["fields"] == [{"path": "config.path", "old": "s3://ml/old",
                                 "new": "s3://ml/new"}]
    assert update["after"]["config"]["secret"] == "(sensitive)"


def _normalized(text: str, plan: Plan) -> str:
    return text.replace(plan.id, "<plan-id>").replace(plan.created_at, "<created-at>")


def test_markdown_golden(cli: Cli, manifests: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    _edit(manifests / "components.yaml.j2", "s3://ml/old", "s3://ml/new")
    _remove_document(manifests / "components.yaml.j2", "scratch")
    (manifests / "dev.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: dev}\n"
        "spec: {store: {type: local}}\n")
    assert cli("artifact-store", "update", "s3", "--path=s3://ml/hand").rc == 0
    plan = _core_plan([manifests], prune=True)
    text = _normalized(render_markdown(plan), plan)
    golden = GOLDEN / "plan_small.md"
    if os.environ.get("STACKCTL_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    # the CLI renders the same (ids and times aside)
    shown = cli("plan", "--prune", "--format", "markdown", str(manifests)).out
    assert re.sub(r"plan \S+ · [^<\s]+", "plan <plan-id> · <created-at>", shown) == text


def test_markdown_fits_a_github_comment(tmp_path: Path) -> None:
    root = tmp_path / "huge"
    root.mkdir()
    doc = ("apiVersion: stackctl/v1\nkind: Component\nmetadata: {{name: c{i:04d}, profile: "
           "{profile}}}\nspec: {{type: artifact_store, flavor: local, config: {{path: "
           "/data/{long}/{i}}}}}\n")
    long = "very-long-directory-name-" * 8
    profiles = ["alpha", "beta", "gamma"]
    for profile in profiles:
        docs = [f"apiVersion: stackctl/v1\nkind: Profile\nmetadata: {{name: {profile}}}\n"
                "spec: {store: {type: local}}\n"]
        docs += [doc.format(i=i, profile=profile, long=long) for i in range(1000)]
        (root / f"{profile}.yaml").write_text("---\n".join(docs))
    plan = _core_plan([root])
    assert plan.counts["create"] == 3015  # with each new profile's 4 default objects
    text = render_markdown(plan)
    assert len(text) <= 65_536  # the literal: a raised constant must fail here
    assert text.startswith("### stackctl plan\n\n**Plan: 3015 to create, 0 to update, "
                           "0 to delete.**")
    assert "Some details were omitted to fit GitHub's 65,536-character comment limit; for " \
           "the full plan run `stackctl show plan.json`." in text
    for profile in profiles:  # every profile keeps its summary line
        assert f"<summary><b>{profile}</b>: 1001 changes</summary>" in text
    # a smaller limit drops every profile's details, and then cuts hard, keeping the pointer
    small = render_markdown(plan, limit=2_000, full_plan_hint="`stackctl show p.json`")
    assert len(small) <= 2_000
    assert "_Details omitted to fit GitHub's comment limit: run `stackctl show p.json`._" in small
    tiny = render_markdown(plan, limit=400, full_plan_hint="`stackctl show p.json`")
    assert len(tiny) <= 400
    assert tiny.startswith("### stackctl plan\n\n**Plan: 3015 to create")
    assert tiny.endswith("… truncated: run `stackctl show p.json` for the full plan.\n")


# -- templating, repositories, global config -------------------------------------------------

MULTI_ENV_PROJECT = """\
defaultProfile: ml
vars: {region: eu-west-1}
environments:
  dev: {bucket: ml-dev}
  prod: {bucket: ml-prod, region: us-east-1}
"""
MULTI_ENV_TEMPLATE = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: ml}
spec: {store: {type: local}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: artifacts}
spec:
  type: artifact_store
  flavor: s3
  config: {path: "s3://{{ vars.bucket }}/{{ vars.region }}"}
"""


def test_environments_and_variables(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "multi"
    root.mkdir()
    (root / "stackctl.yaml").write_text(MULTI_ENV_PROJECT)
    (root / "artifacts.yaml.j2").write_text(MULTI_ENV_TEMPLATE)
    (tmp_path / "override.yaml").write_text("region: ap-south-1\n")

    def path_for(*args: str) -> str:
        result = cli("plan", "--format", "json", *args, cwd=root)
        assert result.rc == 0, result.err
        change = next(c for c in json.loads(result.out)["changes"]
                      if c["address"] == "ml/artifact_store/artifacts")
        return str(change["after"]["config"]["path"])

    assert path_for("-e", "dev") == "s3://ml-dev/eu-west-1"
    assert path_for("--env", "prod") == "s3://ml-prod/us-east-1"
    assert path_for("-e", "dev", "--var", "bucket=adhoc") == "s3://adhoc/eu-west-1"
    assert path_for("-e", "prod", "--var-file", "../override.yaml") == "s3://ml-prod/ap-south-1"
    assert path_for("-e", "prod", "--var-file", "../override.yaml",
                    "--var", "region=x=y") == "s3://ml-prod/x=y"
    missing = cli("plan", cwd=root)
    assert missing.rc == 1
    assert "artifacts.yaml.j2:12:" in missing.err
    assert "[template-undefined]" in missing.err
    unknown = cli("plan", "-e", "staging", cwd=root)
    assert unknown.rc == 1
    assert "Unknown environment 'staging'." in unknown.err

    # a saved plan remembers its environment; --var values are given again (only their
    # fingerprints are in the file)
    planfile = tmp_path / "prod.plan"
    assert cli("plan", "-e", "prod", "--var", "bucket=saved", "-o", str(planfile),
               cwd=root).rc == 0
    assert cli("apply", str(planfile), "--var", "bucket=saved", cwd=tmp_path).rc == 0
    assert _component_config("artifact_store", "artifacts", "ml")["path"] == \
        "s3://saved/us-east-1"


def test_repository_manifest_writes_zen_config(cli: Cli, manifests: Path,
                                               tmp_path: Path) -> None:
    project = manifests / "project"
    (manifests / "repo.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: project}\n"
        "spec: {path: project, activeProfile: team, activeStack: edge}\n")
    plan = cli("plan", str(manifests))
    assert f"+ create repository/{project}\n" in plan.out
    assert cli("apply", "-y", str(manifests)).rc == 0
    zen = yaml.safe_load((project / ".zen" / "config.yaml").read_text())
    assert (zen["active_profile_name"], zen["active_stack_name"]) == ("team", "edge")

    _edit(manifests / "repo.yaml", "activeStack: edge", "activeStack: cloud")
    plan = cli("plan", str(manifests)).out.splitlines()
    at = plan.index(f"~ update repository/{project}")
    assert plan[at + 1] == "      active_stack: edge → cloud"
    assert cli("apply", "-y", str(manifests)).rc == 0
    zen = yaml.safe_load((project / ".zen" / "config.yaml").read_text())
    assert zen["active_stack_name"] == "cloud"
    # commands run inside the repository now use its settings
    inside = cli("stack", "get", cwd=project)
    assert "cloud" in inside.out + inside.err


def test_global_config_sets_the_active_profile(cli: Cli, manifests: Path,
                                               config_dir: Path) -> None:
    assert cli("profile", "list").rc == 0  # first use: the default profile, active
    assert Workspace().config().activated_profile == "default"
    assert cli("apply", "-y", str(manifests)).rc == 0
    raw = yaml.safe_load((config_dir / "config.yaml").read_text())
    assert raw["activated_profile"] == "team"
    assert raw["profiles"]["team"]["active_stack"] == "cloud"
    _edit(manifests / "profiles.yaml", "activeProfile: team", "activeProfile: default")
    plan = cli("plan", str(manifests)).out.splitlines()
    assert plan[plan.index("~ update global") + 1] == "      active_profile: team → default"
    assert cli("apply", "-y", str(manifests)).rc == 0
    assert Workspace().config().activated_profile == "default"


# -- export ----------------------------------------------------------------------------------


def test_export_then_plan_gives_no_changes(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    awkward = "it's a 'quoted' {{ secret }} #1"
    assert cli("apply", "-y", str(manifests), env={"DB_PASSWORD": awkward}).rc == 0
    assert cli("artifact-store", "register", "braces", "--flavor", "local",
               "--path=/tmp/{{ not a template }}").rc == 0
    out = tmp_path / "exported"
    result = cli("export", "--all", "-o", str(out))
    assert result.rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["global.yaml", "team.yaml.j2"]
    exported = (out / "team.yaml.j2").read_text()
    assert S3_SECRET not in exported
    assert awkward not in exported
    assert "{{ env.STACKCTL_SECRET_TEAM_ARTIFACT_STORE_S3_SECRET | tojson }}" in exported
    assert ("Secret values were not written; set these variables before planning:\n"
            "  STACKCTL_SECRET_TEAM_ARTIFACT_STORE_S3_SECRET\n"
            "  STACKCTL_SECRET_TEAM_METADATA_STORE_MYSQL_PASSWORD") in result.err

    env = {"STACKCTL_SECRET_TEAM_ARTIFACT_STORE_S3_SECRET": S3_SECRET,
           "STACKCTL_SECRET_TEAM_METADATA_STORE_MYSQL_PASSWORD": awkward}
    plan = cli("plan", "--detailed-exitcode", str(out), env=env)
    assert plan.rc == 0, plan.out + plan.err
    assert plan.out.splitlines()[-1] == "No changes. The live configuration matches the manifests."
    # a wrong secret is a change (shown redacted); a missing one a located error
    wrong = cli("plan", str(out), env={**env, "STACKCTL_SECRET_TEAM_ARTIFACT_STORE_S3_SECRET":
                                        "nope"})
    assert "      config.secret: (sensitive) → (sensitive)" in wrong.out
    missing = cli("plan", str(out))
    assert missing.rc == 1
    assert "[template-undefined]" in missing.err


def test_export_one_profile(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    out = tmp_path / "one"
    assert cli("export", "--profile", "team", "-o", str(out)).rc == 0
    assert [p.name for p in out.iterdir()] == ["team.yaml.j2"]
    docs = list(yaml.safe_load_all((out / "team.yaml.j2").read_text()
                                   .replace("{{", "'").replace("| tojson }}", "'")))
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "Profile"
    # the profile's three default components hold this machine's paths: not exported
    assert kinds.count("Component") == 4
    assert kinds.count("Stack") == 3


def test_export_reads_as_written_by_hand(cli: Cli, manifests: Path, tmp_path: Path,
                                         config_dir: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    out = tmp_path / "exported"
    assert cli("export", "--all", "-o", str(out)).rc == 0
    text = (out / "team.yaml.j2").read_text()
    assert str(config_dir) not in text  # no machine-specific default path
    assert text.startswith("apiVersion: stackctl/v1\nkind: Profile\nmetadata:\n  name: team\n"
                           "spec:\n")
    mysql = next(d for d in text.split("---\n") if "name: mysql" in d)
    assert mysql.splitlines()[:8] == [
        "apiVersion: stackctl/v1", "kind: Component", "metadata:", "  name: mysql",
        "  profile: team", "spec:", "  type: metadata_store", "  flavor: mysql"]
    # port 3306 and upgrade_migration_enabled: true are the flavor's defaults
    assert "port:" not in mysql
    assert "upgrade_migration_enabled" not in mysql
    assert "  config:\n    database: zenml\n    host: db.internal\n" in mysql
    env = {"STACKCTL_SECRET_TEAM_ARTIFACT_STORE_S3_SECRET": S3_SECRET,
           "STACKCTL_SECRET_TEAM_METADATA_STORE_MYSQL_PASSWORD": DB_PASSWORD}
    plan = cli("plan", "--detailed-exitcode", str(out), env=env)
    assert plan.rc == 0, plan.out + plan.err


def test_export_refuses_to_overwrite_without_force(cli: Cli, manifests: Path,
                                                   tmp_path: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    out = tmp_path / "exported"
    out.mkdir()
    (out / "global.yaml").write_text("mine\n")
    refused = cli("export", "--all", "-o", str(out))
    assert refused.rc == 1
    assert refused.err.splitlines()[-2:] == [
        f"Error: {out / 'global.yaml'} already exists; nothing was exported.",
        "  hint: Pass --force to overwrite it, or choose another directory with -o."]
    assert sorted(p.name for p in out.iterdir()) == ["global.yaml"]
    assert (out / "global.yaml").read_text() == "mine\n"
    assert cli("export", "--all", "-o", str(out), "--force").rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["global.yaml", "team.yaml.j2"]
    assert "kind: GlobalConfig" in (out / "global.yaml").read_text()


def test_export_a_file_of_the_other_suffix_is_not_overwritten(cli: Cli, manifests: Path,
                                                             tmp_path: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    out = tmp_path / "exported"
    out.mkdir()
    (out / "team.yaml").write_text("mine\n")  # would be read beside team.yaml.j2
    refused = cli("export", "--profile", "team", "-o", str(out))
    assert refused.rc == 1
    assert f"Error: {out / 'team.yaml'} already exists; nothing was exported." in refused.err
    assert [p.name for p in out.iterdir()] == ["team.yaml"]


def test_export_to_stdout(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    assert cli("apply", "-y", str(manifests)).rc == 0
    result = cli("export", "--profile", "team", "-o", "-", cwd=tmp_path)
    assert result.rc == 0
    assert result.out.startswith("apiVersion: stackctl/v1\nkind: Profile\n")
    assert "{{ env.STACKCTL_SECRET_TEAM_ARTIFACT_STORE_S3_SECRET | tojson }}" in result.out
    assert not (tmp_path / "-").exists()
    assert not (tmp_path / "team.yaml.j2").exists()
    out = tmp_path / "as-file"
    out.mkdir()
    (out / "team.yaml.j2").write_text(result.out)
    env = {"STACKCTL_SECRET_TEAM_ARTIFACT_STORE_S3_SECRET": S3_SECRET,
           "STACKCTL_SECRET_TEAM_METADATA_STORE_MYSQL_PASSWORD": DB_PASSWORD}
    assert cli("plan", "--detailed-exitcode", str(out), env=env).rc == 0


# -- the store lock --------------------------------------------------------------------------


def test_a_second_apply_waits_then_fails_naming_the_holder(cli: Cli, manifests: Path,
                                                           tmp_path: Path,
                                                           config_dir: Path) -> None:
    from stackctl.stores.lock import store_lock

    assert cli("apply", "-y", str(manifests)).rc == 0
    _edit(manifests / "components.yaml.j2", "s3://ml/old", "s3://ml/new")
    with store_lock(config_dir / "profiles" / "team" / ".stackctl", "profile 'team'"):
        waiting = _run_installed("apply", "-y", str(manifests), cwd=tmp_path,
                                 env={"STACKCTL_LOCK_TIMEOUT": "1"})
    assert waiting.returncode == 1
    assert re.search(rf"Error: Could not lock profile 'team' within 1s: it is held by pid "
                     rf"{os.getpid()} on \S+ running '.+' since ", waiting.stderr), waiting.stderr
    assert _component_config("artifact_store", "s3")["path"] == "s3://ml/old"
    # released (the lease of a dead holder is taken over the same way: the OS lock is gone)
    done = _run_installed("apply", "-y", str(manifests), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _component_config("artifact_store", "s3")["path"] == "s3://ml/new"


CUSTOM_SECRET = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {store: {type: local}}
---
apiVersion: stackctl/v1
kind: Flavor
metadata: {name: vault-orchestrator, profile: team}
spec:
  type: orchestrator
  source: my_pkg.VaultOrchestrator
  configSchema:
    type: object
    properties:
      host: {type: string}
      token: {type: string, writeOnly: true}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: vaulted, profile: team}
spec:
  type: orchestrator
  flavor: vault-orchestrator
  config: {host: vault.internal, token: "{{ env.S3_SECRET }}"}
"""


def test_custom_flavor_secret_is_hidden_in_plans_and_stored_privately(
        cli: Cli, tmp_path: Path, config_dir: Path) -> None:
    root = tmp_path / "custom"
    root.mkdir()
    (root / "all.yaml.j2").write_text(CUSTOM_SECRET)
    plan = cli("plan", str(root))
    assert plan.rc == 0
    assert "      config.token: (sensitive)" in plan.out.splitlines()
    assert cli("apply", "--auto-approve", str(root)).rc == 0
    stored = config_dir / "profiles" / "team" / "orchestrators" / "vaulted.yaml"
    assert S3_SECRET in stored.read_text()
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
