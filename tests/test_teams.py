"""Shared ownership: external objects, two projects on one profile, urlFromEnv adoption.

Commands run in-process through ``stackctl.cli.main.main``; the live state is a
private global config directory per test (conftest).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import Cli, snapshot

from stackctl.workspace import Workspace


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def config_dir() -> Path:
    return Path(os.environ["STACKCTL_CONFIG_PATH"])


def component(name: str, path: str, profile: str = "team") -> str:
    return f"""\
apiVersion: stackctl/v1
kind: Component
metadata: {{name: {name}, profile: {profile}}}
spec: {{type: artifact_store, flavor: local, config: {{path: {path}}}}}
---
"""


EXTERNAL_PROFILE = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {external: true}
---
"""


# ---- external objects -----------------------------------------------------------

def test_validate_accepts_external_objects_offline(cli: Cli, tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"m.yaml": EXTERNAL_PROFILE + """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: shared-s3, profile: team}
spec: {type: artifact_store, external: true}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: prod, profile: team}
spec:
  components: {orchestrator: default, metadata_store: default, artifact_store: shared-s3}
"""})
    before = snapshot(config_dir())
    result = cli("validate", str(root))
    assert result.rc == 0, result.err
    assert snapshot(config_dir()) == before  # offline: no live state read or made


def test_validate_stays_strict_about_external_typos(cli: Cli, tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"m.yaml": EXTERNAL_PROFILE + """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: shared-s3, profile: team}
spec: {type: artifact_store, external: true, flavor: s3}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: prod, profile: team}
spec:
  components: {orchestrator: default, metadata_store: default, artifact_store: shared-s4}
---
apiVersion: stackctl/v1
kind: Profile
metadata: {name: other}
spec: {external: yes-please}
"""})
    result = cli("validate", str(root))
    assert result.rc == 1
    assert "repo/m.yaml:9:7: error: spec: must not have flavor or config [schema]" in result.out
    assert ("repo/m.yaml:15:80: error: Unable to find stack component (type: artifact_store) "
            "with name 'shared-s4'.") in result.out
    assert ("repo/m.yaml:20:18: error: spec.external: expected boolean, found string "
            "[wrong-type]") in result.out


def test_external_profile_and_stack_exist_only_live(cli: Cli, tmp_path: Path) -> None:
    """A component manifest for a hand-made profile, whose active stack is hand-made too."""
    assert cli("profile", "create", "team").rc == 0
    root = write(tmp_path / "repo", {"m.yaml": EXTERNAL_PROFILE + component(
        "mine", str(tmp_path / "a")) + """\
apiVersion: stackctl/v1
kind: Stack
metadata: {name: default, profile: team}
spec: {external: true}
"""})
    result = cli("apply", str(root), "--auto-approve")
    assert result.rc == 0, result.err
    assert "Created team/artifact_store/mine" in result.err
    assert "profile/team" not in result.out  # never changed: not in the plan
    again = cli("plan", str(root), "--prune", "--format", "json")
    plan = json.loads(again.out)
    assert plan["summary"]["text"] == "Plan: 0 to create, 0 to update, 0 to delete."
    # the hand-made default components are unmanaged, never prunable
    assert "team/orchestrator/default" in plan["unmanaged"]


def test_missing_external_is_a_located_plan_error(cli: Cli, tmp_path: Path) -> None:
    assert cli("profile", "create", "team").rc == 0
    root = write(tmp_path / "repo", {"m.yaml": EXTERNAL_PROFILE + """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: shared-s3, profile: team}
spec: {type: artifact_store, external: true}
"""})
    before = snapshot(config_dir())
    result = cli("plan", str(root))
    assert result.rc == 1
    manifest = root / "m.yaml"
    assert (f"{manifest}:8:18: team/artifact_store/shared-s3: the external component "
            "'shared-s3' (artifact_store) does not exist live") in result.err
    assert snapshot(config_dir()) == before


def test_missing_external_profile_is_a_located_plan_error(cli: Cli, tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"m.yaml": EXTERNAL_PROFILE})
    result = cli("plan", str(root))
    assert result.rc == 1
    assert (f"{root / 'm.yaml'}:3:18: profile/team: the external profile 'team' does not "
            "exist live") in result.err


def test_apply_and_prune_never_touch_an_external_object(cli: Cli, tmp_path: Path) -> None:
    """Managed once, then declared external: neither changed nor pruned."""
    assert cli("profile", "create", "team").rc == 0
    first = write(tmp_path / "repo", {"m.yaml": EXTERNAL_PROFILE + component(
        "shared", str(tmp_path / "one"))})
    assert cli("apply", str(first), "--auto-approve").rc == 0
    write(first, {"m.yaml": EXTERNAL_PROFILE + """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: shared, profile: team}
spec: {type: artifact_store, external: true}
"""})
    before = snapshot(config_dir())
    result = cli("apply", str(first), "--prune", "--auto-approve")
    assert result.rc == 0, result.err
    assert "No changes." in result.out
    assert snapshot(config_dir()) == before


# ---- two projects sharing one profile -------------------------------------------

def two_projects(tmp_path: Path) -> tuple[Path, Path]:
    a = write(tmp_path / "team-a", {
        "stackctl.yaml": "name: team-a\n",
        "m.yaml": EXTERNAL_PROFILE + component("a-store", str(tmp_path / "a"))})
    b = write(tmp_path / "team-b", {
        "stackctl.yaml": "name: team-b\n",
        "m.yaml": EXTERNAL_PROFILE + component("b-store", str(tmp_path / "b"))})
    return a, b


def test_two_projects_each_prune_only_their_own(cli: Cli, tmp_path: Path) -> None:
    assert cli("profile", "create", "team").rc == 0
    a, b = two_projects(tmp_path)
    assert cli("apply", "--auto-approve", cwd=a).rc == 0
    assert cli("apply", "--auto-approve", cwd=b).rc == 0
    assert Workspace().store("team").bookkeeping().owners == {
        "team/artifact_store/a-store": "team-a", "team/artifact_store/b-store": "team-b"}
    # each plan, pruning, sees nothing of the other's
    plan_a = json.loads(cli("plan", "--prune", "--format", "json", cwd=a).out)
    assert plan_a["summary"]["text"] == "Plan: 0 to create, 0 to update, 0 to delete."
    assert "team/artifact_store/b-store" not in plan_a["unmanaged"] + plan_a["prunable"]
    # team-a drops its component: its prune deletes it, b's stays
    write(a, {"m.yaml": EXTERNAL_PROFILE})
    result = cli("apply", "--prune", "--auto-approve", cwd=a)
    assert result.rc == 0, result.err
    assert "Deleted team/artifact_store/a-store" in result.err
    names = {name for _, name in Workspace().state("team").components}
    assert names == {"default", "b-store"}


def test_claiming_another_projects_object_is_refused_naming_the_owner(
        cli: Cli, tmp_path: Path) -> None:
    assert cli("profile", "create", "team").rc == 0
    a, b = two_projects(tmp_path)
    assert cli("apply", "--auto-approve", cwd=a).rc == 0
    write(b, {"m.yaml": EXTERNAL_PROFILE + component("a-store", str(tmp_path / "b"))})
    before = snapshot(config_dir())
    result = cli("apply", "--auto-approve", cwd=b)
    assert result.rc == 1
    assert (f"{b / 'm.yaml'}:8:18: team/artifact_store/a-store: managed by project 'team-a'; "
            "this project cannot change it (declare it external, or remove it here)"
            ) in result.err
    assert snapshot(config_dir()) == before
    # declared external instead, team-b may use it
    write(b, {"m.yaml": EXTERNAL_PROFILE + """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: a-store, profile: team}
spec: {type: artifact_store, external: true}
"""})
    assert cli("plan", cwd=b).rc == 0


# ---- urlFromEnv adoption -----------------------------------------------------------

def sql_profile(var: str) -> str:
    return f"""\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: team}}
spec:
  store: {{type: sql, urlFromEnv: {var}}}
"""


def test_url_from_env_naming_the_same_database_adopts_the_profile(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    assert cli("profile", "create", "team", "--store-type", "sql", "--url", url).rc == 0
    root = write(tmp_path / "repo", {"m.yaml": sql_profile("TEAM_DB_URL")})
    monkeypatch.setenv("TEAM_DB_URL", url)
    plan = cli("plan", str(root))
    assert plan.rc == 0, plan.err
    assert f"~ update profile/team\n      store_url: {url} → env:TEAM_DB_URL" in plan.out
    result = cli("apply", str(root), "--auto-approve")
    assert result.rc == 0, result.err
    config = (config_dir() / "config.yaml").read_text()
    assert "store_url: env:TEAM_DB_URL" in config
    assert url not in config
    assert "No changes." in cli("plan", str(root)).out


def test_a_real_store_change_is_refused_with_the_reason(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    assert cli("profile", "create", "team", "--store-type", "sql", "--url", url).rc == 0
    root = write(tmp_path / "repo", {"m.yaml": sql_profile("TEAM_DB_URL")})
    monkeypatch.setenv("TEAM_DB_URL", f"sqlite:///{tmp_path / 'other.db'}")
    before = snapshot(config_dir())
    result = cli("plan", str(root))
    assert result.rc == 1
    assert (f"{root / 'm.yaml'}:3:18: profile/team: the store of an existing profile cannot "
            f"change ({url} → sqlite:///{tmp_path / 'other.db'}); export it and apply to a new "
            "profile instead") in result.err
    monkeypatch.delenv("TEAM_DB_URL")
    unset = cli("plan", str(root))
    assert unset.rc == 1
    assert ("cannot change (cannot tell whether it is the same database: $TEAM_DB_URL is not "
            "set)") in unset.err
    assert snapshot(config_dir()) == before


# ---- show PLANFILE, plan given a plan file, apply --format json ----------------------

GOLDEN = Path(__file__).resolve().parent / "golden"
SHOW_MANIFESTS = {
    "stackctl.yaml": "name: shown\ndefaultProfile: default\n",
    "m.yaml": """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: data}
spec: {type: artifact_store, flavor: local, config: {path: /srv/data}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: main}
spec:
  components: {orchestrator: default, metadata_store: default, artifact_store: data}
""",
}


def saved_plan(cli: Cli, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A saved plan, and what `plan` printed for it in each format."""
    root = write(tmp_path / "repo", SHOW_MANIFESTS)
    plan_file = tmp_path / "plan.json"
    made = cli("plan", "-o", str(plan_file), cwd=root)
    assert made.rc == 0, made.err
    printed = {"text": made.out}
    data = json.loads(plan_file.read_text())
    assert data["summary"]["text"] == "Plan: 7 to create, 0 to update, 0 to delete."
    return plan_file, printed


def test_show_renders_a_saved_plan_without_manifests_or_live_state(
        cli: Cli, tmp_path: Path) -> None:
    import shutil

    plan_file, printed = saved_plan(cli, tmp_path)
    shutil.rmtree(tmp_path / "repo")  # no manifests
    shutil.rmtree(config_dir())  # no live state
    text = cli("show", str(plan_file))
    assert text.rc == 0, text.err
    assert text.out == printed["text"]
    as_json = cli("show", str(plan_file), "--format", "json")
    saved = json.loads(plan_file.read_text())
    del saved["digest"]  # of the file, not of the plan
    assert json.loads(as_json.out) == saved
    markdown = cli("show", str(plan_file), "--format", "markdown").out
    plan = json.loads(plan_file.read_text())
    normalized = markdown.replace(plan["id"], "<plan-id>").replace(plan["created_at"],
                                                                    "<created-at>")
    golden = GOLDEN / "show_plan.md"
    if os.environ.get("STACKCTL_UPDATE_GOLDEN"):
        golden.write_text(normalized)
    assert normalized == golden.read_text()
    assert not config_dir().exists()  # show made no live state


def test_show_markdown_is_what_plan_printed(cli: Cli, tmp_path: Path) -> None:
    root = write(tmp_path / "repo", SHOW_MANIFESTS)
    plan_file = tmp_path / "plan.json"
    made = cli("plan", "-o", str(plan_file), "--format", "markdown", cwd=root)
    assert made.rc == 0
    assert cli("show", str(plan_file), "--format", "markdown").out == made.out


def test_show_refuses_what_is_not_a_plan(cli: Cli, tmp_path: Path) -> None:
    root = write(tmp_path / "repo", SHOW_MANIFESTS)
    missing = cli("show", str(tmp_path / "nope.json"))
    assert missing.rc == 1
    assert (f"Error: {tmp_path / 'nope.json'}: Cannot read the plan file: No such file or "
            "directory.") in missing.err
    manifest = cli("show", str(root / "m.yaml"))
    assert manifest.rc == 1
    assert (f"Error: {root / 'm.yaml'}: This is not a stackctl plan file (not JSON)."
            in manifest.err)


def test_plan_given_a_plan_file_says_to_use_show(cli: Cli, tmp_path: Path) -> None:
    plan_file, _ = saved_plan(cli, tmp_path)
    before = snapshot(config_dir())
    result = cli("plan", str(plan_file))
    assert result.rc == 1
    assert f"Error: {plan_file} is a saved plan, not a manifest." in result.err
    assert f"hint: Show it with `stackctl show {plan_file}`" in result.err
    assert snapshot(config_dir()) == before


def test_apply_format_json_prints_what_was_done(cli: Cli, tmp_path: Path) -> None:
    plan_file, _ = saved_plan(cli, tmp_path)
    result = cli("apply", str(plan_file), "--format", "json")
    assert result.rc == 0, result.err
    done = json.loads(result.out)
    assert done["changes"] == [
        {"address": "profile/default", "action": "create", "result": "created"},
        {"address": "default/artifact_store/data", "action": "create", "result": "created"},
        {"address": "default/stack/main", "action": "create", "result": "created"},
    ]
    assert done["summary"]["text"] == "Apply complete: 7 created, 0 updated, 0 deleted."
    assert done["plan_id"] == json.loads(plan_file.read_text())["id"]
    again = cli("apply", "-y", "--format", "json", cwd=tmp_path / "repo")
    assert again.rc == 0, again.err
    assert {c["result"] for c in json.loads(again.out)["changes"]} == {"unchanged"}


# ---- export of an SQL profile --------------------------------------------------------

@pytest.mark.db
def test_export_of_an_sql_profile_writes_no_password(
        cli: Cli, tmp_path: Path, postgresql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    password = "pg-pa55word-in-url-4471"  # trust auth: accepted and ignored by the server
    url = postgresql_url.replace("postgres@", f"postgres:{password}@")
    assert cli("profile", "create", "team", "--store-type", "sql", "--url", url).rc == 0
    out = tmp_path / "exported"
    result = cli("export", "--profile", "team", "-o", str(out))
    assert result.rc == 0, result.err
    assert ("set these variables before planning:\n  STACKCTL_STORE_URL_TEAM\n") in result.err
    assert password not in result.out + result.err
    for path in out.rglob("*"):
        assert password not in path.read_text()
    import yaml

    profile = next(yaml.safe_load_all((out / "team.yaml").read_text()))
    assert profile["spec"]["store"] == {"type": "sql", "urlFromEnv": "STACKCTL_STORE_URL_TEAM"}
    # planned again with the variable set: the same database, only how it is recorded changes
    monkeypatch.setenv("STACKCTL_STORE_URL_TEAM", url)
    plan = cli("plan", str(out), "--format", "json")
    assert plan.rc == 0, plan.err
    changes = {c["address"]: c["action"] for c in json.loads(plan.out)["changes"]
               if c["action"] != "no-op"}
    assert changes == {"profile/team": "update"}
    assert password not in plan.out + plan.err


def test_active_stack_may_name_an_external_live_stack(cli: Cli, tmp_path: Path) -> None:
    """A managed Profile whose activeStack is a stack made by hand, declared external."""
    assert cli("profile", "create", "team").rc == 0
    assert cli("profile", "set", "team").rc == 0
    assert cli("stack", "register", "by-hand", "-o", "default", "-a", "default",
               "-m", "default").rc == 0
    assert cli("profile", "set", "default").rc == 0
    root = write(tmp_path / "repo", {"m.yaml": """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {store: {type: local}, activeStack: by-hand}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: by-hand, profile: team}
spec: {external: true}
"""})
    assert cli("validate", str(root)).rc == 0
    result = cli("apply", str(root), "--auto-approve")
    assert result.rc == 0, result.err
    assert Workspace().config().profiles["team"].active_stack == "by-hand"
    # gone live: a located error at plan time, nothing changed
    assert cli("profile", "set", "team").rc == 0
    assert cli("stack", "set", "default").rc == 0
    assert cli("stack", "delete", "by-hand", "-y").rc == 0
    assert cli("profile", "set", "default").rc == 0
    before = snapshot(config_dir())
    missing = cli("plan", str(root))
    assert missing.rc == 1
    assert (f"{root / 'm.yaml'}:8:18: team/stack/by-hand: the external stack 'by-hand' does "
            "not exist live") in missing.err
    assert snapshot(config_dir()) == before
