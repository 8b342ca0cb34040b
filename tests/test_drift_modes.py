"""Drift modes: stackctl.yaml's driftMode says what plan/apply do with out-of-band edits.

remediate (the default) reverts them; refuse fails plan and apply, naming each
drifted address and the ways out: take the live value into the manifest or adopt it
with --adopt ADDRESS (the plan then records it without changing live) or pass --force
to revert.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import STACKCTL, Result, run_process, snapshot

COMPONENT = """\
apiVersion: stackctl/v1
kind: Component
metadata: {{name: {name}}}
spec: {{type: artifact_store, flavor: local, config: {{path: {path}}}}}
"""
ADDRESS = "default/artifact_store/art"


def _run(work: Path, *args: str) -> Result:
    return run_process([STACKCTL, *args], cwd=work)


def _write(work: Path, path: str) -> None:
    (work / "m" / "art.yaml").write_text(COMPONENT.format(name="art", path=path))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """One managed artifact store, applied, then its path edited outside stackctl."""
    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)
    _write(work, "/tmp/art-v1")
    created = _run(work, "apply", "m", "-y")
    assert created.rc == 0, created.stderr
    edited = _run(work, "artifact-store", "update", "art", "--path=/tmp/art-by-hand")
    assert edited.rc == 0, edited.stderr
    return work


def _refuse(work: Path) -> None:
    (work / "stackctl.yaml").write_text("driftMode: refuse\n")


def _live_path(work: Path) -> str:
    result = _run(work, "export", ADDRESS, "-o", "-")
    assert result.rc == 0, result.stderr
    assert "path:" in result.stdout
    return result.stdout.split("path:")[1].split()[0].strip("'\"}")


REFUSED = (
    "Error: driftMode is refuse (stackctl.yaml) and the plan would undo changes made outside "
    "stackctl to 1 object; nothing was planned or applied:\n"
    f"  {ADDRESS}: config.path is '/tmp/art-by-hand' live (set outside stackctl), the plan "
    "would make it '/tmp/art-v1'\n"
    "  hint: Either adopt the live value: --adopt ADDRESS, or set it in the manifest (the "
    "plan then records it and changes nothing live); or revert it: pass --force.\n")


def _config() -> Path:
    return Path(os.environ["STACKCTL_CONFIG_PATH"])  # conftest's private config dir


def test_remediate_is_the_default_and_reverts(work: Path) -> None:
    planned = _run(work, "plan", "m")
    assert planned.rc == 0, planned.stderr
    assert "config.path: /tmp/art-by-hand → /tmp/art-v1" in planned.stdout
    (work / "stackctl.yaml").write_text("driftMode: remediate\n")
    assert _run(work, "apply", "m", "-y").rc == 0
    assert _live_path(work) == "/tmp/art-v1"


def test_refuse_fails_plan_and_apply_and_changes_nothing(work: Path) -> None:
    _refuse(work)
    before = snapshot(_config())
    planned = _run(work, "plan", "m")
    assert (planned.rc, planned.stdout, planned.stderr) == (1, "", REFUSED)
    applied = _run(work, "apply", "m", "-y")
    assert (applied.rc, applied.stderr) == (1, REFUSED)
    saved = _run(work, "plan", "m", "-o", "p.json")
    assert saved.rc == 1
    assert not (work / "p.json").exists()
    assert snapshot(_config()) == before
    # the drift report itself is never refused
    assert _run(work, "drift", "m").rc == 2


def test_force_reverts(work: Path) -> None:
    _refuse(work)
    planned = _run(work, "plan", "m", "--force")
    assert planned.rc == 0, planned.stderr
    assert "config.path: /tmp/art-by-hand → /tmp/art-v1" in planned.stdout
    applied = _run(work, "apply", "m", "-y", "--force")
    assert applied.rc == 0, applied.stderr
    assert _live_path(work) == "/tmp/art-v1"
    assert _run(work, "drift", "m").rc == 0
    assert _run(work, "plan", "m").rc == 0  # nothing drifted any more: not refused


def test_adopting_the_live_value_records_it_without_changing_live(work: Path) -> None:
    _refuse(work)
    _write(work, "/tmp/art-by-hand")  # the manifest takes the live value
    planned = _run(work, "plan", "m")
    assert planned.rc == 0, planned.stderr
    assert f"= no-op  {ADDRESS}  (now managed by stackctl)" in planned.stdout
    applied = _run(work, "apply", "m", "-y")
    assert applied.rc == 0, applied.stderr
    assert _live_path(work) == "/tmp/art-by-hand"
    assert _run(work, "drift", "m").rc == 0  # recorded as last applied: no drift left


def test_saved_plan_records_force_and_mode(work: Path) -> None:
    _refuse(work)
    saved = _run(work, "plan", "m", "--force", "-o", "p.json")
    assert saved.rc == 0, saved.stderr
    inputs = json.loads((work / "p.json").read_text())["inputs"]
    assert (inputs["drift_mode"], inputs["force"]) == ("refuse", True)
    again = _run(work, "apply", "p.json", "--force")
    assert (again.rc, again.stderr) == (1, "Error: A saved plan carries its own inputs; give "
                                           "only the plan file (and its --var values).\n")
    applied = _run(work, "apply", "p.json")
    assert applied.rc == 0, applied.stderr
    assert _live_path(work) == "/tmp/art-v1"


def test_saved_plan_keeps_the_mode_it_was_made_in(work: Path) -> None:
    saved = _run(work, "plan", "m", "-o", "p.json")  # remediate
    assert saved.rc == 0, saved.stderr
    assert "drift_mode" not in json.loads((work / "p.json").read_text())["inputs"]
    _refuse(work)  # the project file changes after review: the reviewed plan still holds
    applied = _run(work, "apply", "p.json")
    assert applied.rc == 0, applied.stderr
    assert _live_path(work) == "/tmp/art-v1"


def test_unknown_mode_is_a_located_error(work: Path) -> None:
    (work / "stackctl.yaml").write_text("name: x\ndriftMode: sometimes\n")
    before = snapshot(_config())
    planned = _run(work, "plan", "m")
    assert planned.rc == 1
    assert planned.stderr.splitlines()[0] == (
        "stackctl.yaml:2:12: error: driftMode: 'sometimes' is not one of ['remediate', "
        "'warn', 'refuse'] [project-file]")
    assert snapshot(_config()) == before


def test_adopt_records_the_live_value_without_changing_live(work: Path) -> None:
    _refuse(work)
    planned = _run(work, "plan", "m", "--adopt", ADDRESS)
    assert planned.rc == 0, planned.stderr
    assert f"= no-op  {ADDRESS}  (now managed by stackctl)" in planned.stdout
    saved = _run(work, "plan", "m", "--adopt", ADDRESS, "-o", "p.json")
    assert saved.rc == 0, saved.stderr
    assert json.loads((work / "p.json").read_text())["inputs"]["adopt"] == [ADDRESS]
    applied = _run(work, "apply", "p.json")  # recomputed with the recorded --adopt
    assert applied.rc == 0, applied.stderr
    assert _live_path(work) == "/tmp/art-by-hand"
    assert _run(work, "drift", "m").rc == 0  # the live value is now the last applied
    # the manifest still says v1: with no drift left, that is an ordinary change
    again = _run(work, "plan", "m")
    assert again.rc == 0, again.stderr
    assert "config.path: /tmp/art-by-hand → /tmp/art-v1" in again.stdout
    assert "outside stackctl" not in again.stdout


def test_adopt_keeps_other_manifest_changes(work: Path) -> None:
    (work / "m" / "other.yaml").write_text(COMPONENT.format(name="other", path="/tmp/o"))
    applied = _run(work, "apply", "m", "-y", "--adopt", ADDRESS)
    assert applied.rc == 0, applied.stderr
    assert _live_path(work) == "/tmp/art-by-hand"
    assert "other" in _run(work, "export", "default/artifact_store/other", "-o", "-").stdout


def test_adopt_of_an_undrifted_address_is_an_error(work: Path) -> None:
    before = snapshot(_config())
    result = _run(work, "apply", "m", "-y", "--adopt", "default/artifact_store/nope")
    assert (result.rc, result.stdout, result.stderr) == (1, "", (
        "Error: --adopt default/artifact_store/nope: not an object changed outside stackctl "
        f"in this plan (drifted: {ADDRESS}).\n"
        "  hint: See what drifted with `stackctl drift`.\n"))
    assert snapshot(_config()) == before


STACK = """\
apiVersion: stackctl/v1
kind: Stack
metadata: {name: s}
spec: {components: {orchestrator: default, artifact_store: art, metadata_store: default}}
"""


def test_adopt_a_stack_keeps_its_live_components(work: Path) -> None:
    (work / "m" / "other.yaml").write_text(COMPONENT.format(name="other", path="/tmp/o"))
    (work / "m" / "s.yaml").write_text(STACK)
    assert _run(work, "apply", "m", "-y", "--force").rc == 0
    # out of band: the stack now uses the other artifact store
    assert _run(work, "stack", "delete", "s", "-y").rc == 0, "stack delete"
    assert _run(work, "stack", "register", "s", "-o", "default", "-m", "default",
                "-a", "other").rc == 0
    _refuse(work)
    refused = _run(work, "plan", "m")
    assert refused.rc == 1
    assert ("  default/stack/s: components.artifact_store is 'other' live (set outside "
            "stackctl), the plan would make it 'art'\n") in refused.stderr
    applied = _run(work, "apply", "m", "-y", "--adopt", "default/stack/s")
    assert applied.rc == 0, applied.stderr
    exported = _run(work, "export", "default/stack/s", "-o", "-").stdout
    assert "artifact_store: other" in exported, exported
    assert _run(work, "drift", "m").rc == 0


# -- driftMode warn: drifted fields stay as they are live, and every output says so ------

KEPT = (
    "Changed outside stackctl and left as is (driftMode warn): 1 field\n"
    f"  ! {ADDRESS}\n"
    "      config.path: /tmp/art-by-hand live, the manifest says /tmp/art-v1\n"
    "  To resolve: set the live value in the manifest or adopt it (--adopt ADDRESS), or "
    "revert it (--force).\n")


def _warn(work: Path) -> None:
    (work / "stackctl.yaml").write_text("driftMode: warn\n")


def test_warn_leaves_the_live_field_and_says_so_in_every_output(work: Path) -> None:
    _warn(work)
    planned = _run(work, "plan", "m")
    assert planned.rc == 0, planned.stderr
    assert KEPT in planned.stdout
    assert "→ /tmp/art-v1" not in planned.stdout  # nothing reverts it
    assert planned.stdout.endswith("No changes. Fields changed outside stackctl are left as "
                                   "they are (driftMode warn, above).\n")
    data = json.loads(_run(work, "plan", "m", "--format", "json").stdout)
    assert data["kept"] == [{"address": ADDRESS, "fields": [
        {"path": "config.path", "old": "/tmp/art-by-hand", "new": "/tmp/art-v1"}]}]
    assert data["summary"]["kept"] == 1
    assert data["inputs"]["drift_mode"] == "warn"
    markdown = _run(work, "plan", "m", "--format", "markdown").stdout
    assert "#### ⚠️ Left as is (driftMode warn)" in markdown
    assert (f"- `{ADDRESS}` `config.path`: `/tmp/art-by-hand` live, the manifest says "
            "`/tmp/art-v1`") in markdown
    assert "--adopt ADDRESS" in markdown
    applied = _run(work, "apply", "m", "-y")
    assert applied.rc == 0, applied.stderr
    assert KEPT in applied.stdout
    assert _live_path(work) == "/tmp/art-by-hand"
    as_json = json.loads(_run(work, "apply", "m", "-y", "--format", "json").stdout)
    assert as_json["kept"] == [{"address": ADDRESS, "fields": [
        {"path": "config.path", "live": "/tmp/art-by-hand", "manifest": "/tmp/art-v1"}]}]
    # still drift, still kept on every later plan: never silently reverted nor forgotten
    assert _run(work, "drift", "m").rc == 2
    again = _run(work, "plan", "m")
    assert KEPT in again.stdout
    assert _live_path(work) == "/tmp/art-by-hand"


def test_diff_and_drift_under_warn_show_the_drift_as_kept_not_reverted(work: Path) -> None:
    """Warn: the drift is still shown (it is drift) but as plan keeps it, never as a revert."""
    _warn(work)
    diff = _run(work, "diff", "m")
    assert diff.rc == 1, diff.stderr  # the manifest and live still differ
    assert "→ /tmp/art-v1" not in diff.stdout  # no update that reverts it
    assert (f"Drift (live changed outside stackctl since its last apply):\n"
            f"  ! {ADDRESS}: changed  (left as is: driftMode warn)\n"
            "        config.path: /tmp/art-v1 → /tmp/art-by-hand\n") in diff.stdout
    assert KEPT in diff.stdout
    drift = _run(work, "drift", "m")
    assert drift.rc == 2
    assert drift.stdout.startswith(f"! {ADDRESS}: changed  (left as is: driftMode warn)\n")
    data = json.loads(_run(work, "drift", "m", "--format", "json").stdout)
    assert [(d["address"], d["mode"], d["outcome"]) for d in data["drift"]] == [
        (ADDRESS, "warn", "kept")]


def test_diff_and_drift_under_refuse_mark_the_refused_drift(work: Path) -> None:
    """Refuse: diff is a report, so it is not refused (exit 1: differences), but it says
    plan and apply will refuse, and how to resolve it."""
    _refuse(work)
    diff = _run(work, "diff", "m")
    assert diff.rc == 1, diff.stderr
    assert (f"  ! {ADDRESS}: changed  (plan and apply refuse to revert it: driftMode "
            "refuse)\n") in diff.stdout
    assert ("Refused by the drift mode (plan and apply fail until resolved): 1\n"
            f"  ! {ADDRESS}  (driftMode refuse)\n  To resolve: ") in diff.stdout
    drift = _run(work, "drift", "m", "--format", "json")
    assert drift.rc == 2
    assert [(d["mode"], d["outcome"]) for d in json.loads(drift.stdout)["drift"]] == [
        ("refuse", "refused")]


def test_drift_report_is_as_before_under_remediate_and_says_untouched(work: Path) -> None:
    """No mode set, or remediate: the report keeps its shape; a refused drift the manifest
    took the live value of is left alone by the plan, so it is not refused."""
    data = json.loads(_run(work, "drift", "m", "--format", "json").stdout)
    assert [set(d) for d in data["drift"]] == [{"address", "detail", "fields"}]  # as before
    assert _run(work, "drift", "m").stdout.startswith(f"! {ADDRESS}: changed\n")
    (work / "stackctl.yaml").write_text("driftMode: remediate\n")
    data = json.loads(_run(work, "drift", "m", "--format", "json").stdout)
    assert [set(d) for d in data["drift"]] == [{"address", "detail", "fields"}]
    _refuse(work)
    _write(work, "/tmp/art-by-hand")  # the manifest takes the live value: nothing to refuse
    data = json.loads(_run(work, "drift", "m", "--format", "json").stdout)
    assert [(d["mode"], d["outcome"]) for d in data["drift"]] == [("refuse", "untouched")]
    assert "Refused" not in _run(work, "diff", "m").stdout


TRACKER = """\
apiVersion: stackctl/v1
kind: Component
metadata: {{name: t}}
spec:
  type: experiment_tracker
  flavor: mlflow
  config: {{tracking_uri: "http://v1", tracking_insecure_tls: {tls}}}
"""
TRACKER_ADDRESS = "default/experiment_tracker/t"


def _export(work: Path, address: str) -> str:
    result = _run(work, "export", address, "-o", "-")
    assert result.rc == 0, result.stderr
    return result.stdout


def _warned_change(work: Path, name: str, applied: str, edit: tuple[str, ...],
                   changed: str) -> Result:
    """Apply manifest ``name`` as ``applied``, edit it by hand (the CLI's ``edit``), turn
    warn on, change the manifest to ``changed``: the plan."""
    (work / "m" / name).write_text(applied)
    assert _run(work, "apply", "m", "-y", "--force").rc == 0
    assert _run(work, *edit).rc == 0
    _warn(work)
    (work / "m" / name).write_text(changed)  # a manifest change
    planned = _run(work, "plan", "m")
    assert planned.rc == 0, planned.stderr
    return planned


def test_warn_still_applies_the_other_fields_of_a_drifted_object(work: Path) -> None:
    planned = _warned_change(work, "t.yaml", TRACKER.format(tls="false"),
                             ("experiment-tracker", "update", "t",
                              "--tracking_uri=http://by-hand"), TRACKER.format(tls="true"))
    assert (f"~ update {TRACKER_ADDRESS}\n      config.tracking_insecure_tls: false → true\n"
            in planned.stdout)
    assert "tracking_uri: http://by-hand → " not in planned.stdout
    assert (f"  ! {TRACKER_ADDRESS}\n      config.tracking_uri: http://by-hand live, the "
            "manifest says http://v1\n") in planned.stdout
    assert _run(work, "apply", "m", "-y").rc == 0
    exported = _export(work, TRACKER_ADDRESS)
    assert "tracking_insecure_tls: true" in exported
    assert "tracking_uri: http://by-hand" in exported
    # the applied field is recorded, the kept one is not: only it is still drift
    drift = json.loads(_run(work, "drift", "m", "--format", "json").stdout)
    tracker = [d for d in drift["drift"] if d["address"] == TRACKER_ADDRESS]
    assert tracker == [{"address": TRACKER_ADDRESS, "detail": "changed", "fields": [
        {"path": "config.tracking_uri", "old": "http://v1", "new": "http://by-hand"}],
        "mode": "warn", "outcome": "kept"}]
    again = _run(work, "plan", "m")
    assert f"~ update {TRACKER_ADDRESS}" not in again.stdout
    assert "config.tracking_uri: http://by-hand live" in again.stdout


def test_warn_with_force_reverts(work: Path) -> None:
    _warn(work)
    assert _run(work, "apply", "m", "-y").rc == 0  # kept once
    planned = _run(work, "plan", "m", "--force")
    assert planned.rc == 0, planned.stderr
    assert ("config.path: /tmp/art-by-hand → /tmp/art-v1  (reverts a change made outside "
            "stackctl)") in planned.stdout
    assert "left as is" not in planned.stdout
    assert _run(work, "apply", "m", "-y", "--force").rc == 0
    assert _live_path(work) == "/tmp/art-v1"
    assert _run(work, "drift", "m").rc == 0
    assert "left as is" not in _run(work, "plan", "m").stdout


def test_warn_is_resolved_by_the_manifest_or_by_adopt(work: Path) -> None:
    _warn(work)
    assert _run(work, "apply", "m", "-y").rc == 0
    adopted = _run(work, "apply", "m", "-y", "--adopt", ADDRESS)
    assert adopted.rc == 0, adopted.stderr
    assert "left as is" not in adopted.stdout
    assert _live_path(work) == "/tmp/art-by-hand"
    assert _run(work, "drift", "m").rc == 0
    # or the manifest takes the live value
    assert _run(work, "artifact-store", "update", "art", "--path=/tmp/art-again").rc == 0
    _write(work, "/tmp/art-again")
    planned = _run(work, "plan", "m")
    assert f"= no-op  {ADDRESS}  (now managed by stackctl)" in planned.stdout
    assert "left as is" not in planned.stdout
    assert _run(work, "apply", "m", "-y").rc == 0
    assert _run(work, "drift", "m").rc == 0


def test_warn_refuses_what_it_cannot_keep_field_by_field(work: Path) -> None:
    _warn(work)
    assert _run(work, "artifact-store", "delete", "art").rc == 0  # deleted by hand
    before = snapshot(_config())
    planned = _run(work, "plan", "m")
    assert planned.rc == 1
    assert planned.stderr.startswith(
        "Error: driftMode is warn (stackctl.yaml) and the plan would undo changes made "
        "outside stackctl to 1 object; nothing was planned or applied:\n"
        f"  {ADDRESS}: deleted outside stackctl; the plan would create it; warn keeps "
        "changed fields only, not this\n")
    assert snapshot(_config()) == before
    assert _run(work, "apply", "m", "-y", "--force").rc == 0
    assert _live_path(work) == "/tmp/art-v1"


# -- a Profile's spec.driftMode overrides the project's ---------------------------------

TEAM = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: team}}
spec: {{activeStack: s{mode}}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: art, profile: team}}
spec: {{type: artifact_store, flavor: local, config: {{path: /tmp/team-v1}}}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: s, profile: team}}
spec: {{components: {{orchestrator: default, artifact_store: art, metadata_store: default}}}}
---
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {{name: global}}
spec: {{activeProfile: team}}
"""
TEAM_ART = "team/artifact_store/art"


def _team_mode(work: Path, mode: str | None) -> None:
    (work / "t" / "team.yaml").write_text(
        TEAM.format(mode=f", driftMode: {mode}" if mode else ""))


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """Profile team (globally active), applied, then its artifact store's path edited
    outside stackctl."""
    work = tmp_path / "work"
    (work / "t").mkdir(parents=True)
    _team_mode(work, None)
    applied = _run(work, "apply", "t", "-y")
    assert applied.rc == 0, applied.stderr
    assert _run(work, "artifact-store", "update", "art", "--path=/tmp/team-by-hand").rc == 0
    return work


def _team_path(work: Path) -> str:
    return _export(work, TEAM_ART).split("path:")[1].split()[0]


def test_profile_warn_overrides_project_refuse(team: Path) -> None:
    _refuse(team)
    assert _run(team, "plan", "t").rc == 1  # the project's refuse
    _team_mode(team, "warn")
    planned = _run(team, "plan", "t")
    assert planned.rc == 0, planned.stderr
    assert (f"  ! {TEAM_ART}\n      config.path: /tmp/team-by-hand live, the manifest says "
            "/tmp/team-v1\n") in planned.stdout
    assert json.loads(_run(team, "plan", "t", "--format", "json").stdout)["inputs"][
        "drift_modes"] == {"team": "warn"}
    assert _run(team, "apply", "t", "-y").rc == 0
    assert _team_path(team) == "/tmp/team-by-hand"


def test_profile_refuse_overrides_project_remediate(team: Path) -> None:
    (team / "stackctl.yaml").write_text("driftMode: remediate\n")
    _team_mode(team, "refuse")
    before = snapshot(_config())
    planned = _run(team, "apply", "t", "-y")
    assert (planned.rc, planned.stdout) == (1, "")
    assert planned.stderr.startswith(
        "Error: driftMode is refuse (profile/team) and the plan would undo changes made "
        f"outside stackctl to 1 object; nothing was planned or applied:\n  {TEAM_ART}: "
        "config.path is '/tmp/team-by-hand' live")
    assert snapshot(_config()) == before
    # the drift report and diff tell the profile's mode too (the project's is remediate)
    drift = json.loads(_run(team, "drift", "t", "--format", "json").stdout)
    assert [(d["address"], d["mode"], d["outcome"]) for d in drift["drift"]] == [
        (TEAM_ART, "refuse", "refused")]
    assert f"  ! {TEAM_ART}  (driftMode refuse)\n" in _run(team, "diff", "t").stdout
    _team_mode(team, "remediate")  # the profile can also be laxer than the project
    _refuse(team)
    assert _run(team, "apply", "t", "-y").rc == 0
    assert _team_path(team) == "/tmp/team-v1"


def test_bad_profile_drift_mode_is_a_located_error(team: Path) -> None:
    _team_mode(team, "sometimes")
    before = snapshot(_config())
    for verb in ("validate", "plan"):
        result = _run(team, verb, "t")
        assert result.rc == 1
        assert ("t/team.yaml:4:35: error: spec.driftMode: 'sometimes' is not one of "
                "['remediate', 'warn', 'refuse'] [schema]") in result.stdout + result.stderr
    _team_mode(team, None)
    (team / "t" / "team.yaml").write_text((team / "t" / "team.yaml").read_text().replace(
        "spec: {activeStack: s}", "spec: {external: true, driftMode: warn}"))
    assert _run(team, "validate", "t").rc == 1  # an external profile is never changed
    assert snapshot(_config()) == before


# -- saved plans keep the modes they were made in ---------------------------------------


def test_saved_plan_applies_under_its_recorded_modes(team: Path) -> None:
    _team_mode(team, "warn")
    saved = _run(team, "plan", "t", "-o", "p.json")
    assert saved.rc == 0, saved.stderr
    data = json.loads((team / "p.json").read_text())
    assert data["inputs"]["drift_modes"] == {"team": "warn"}
    assert [k["address"] for k in data["kept"]] == [TEAM_ART]
    _team_mode(team, "remediate")  # changed after review: the reviewed plan still holds
    applied = _run(team, "apply", "p.json")
    assert applied.rc == 0, applied.stderr
    assert f"  ! {TEAM_ART}\n      config.path: /tmp/team-by-hand live" in applied.stderr
    assert _team_path(team) == "/tmp/team-by-hand"


def _tampered(work: Path, edit: Callable[[dict[str, Any]], None], redigest: bool) -> Result:
    from stackctl.plan import saved

    data = json.loads((work / "p.json").read_text())
    edit(data)
    if redigest:
        data["digest"] = saved.digest_of(data)
    (work / "q.json").write_text(json.dumps(data))
    return _run(work, "apply", "q.json")


def test_saved_plan_with_a_changed_mode_is_refused(team: Path) -> None:
    _team_mode(team, "warn")
    assert _run(team, "plan", "t", "-o", "p.json").rc == 0
    before = snapshot(_config())

    def to_remediate(data: dict[str, Any]) -> None:
        del data["inputs"]["drift_modes"]

    edited = _tampered(team, to_remediate, redigest=False)
    assert edited.rc == 1
    assert "modified after it was saved" in edited.stderr
    # re-digested, it plans again under remediate: other changes than the reviewed ones
    redigested = _tampered(team, to_remediate, redigest=True)
    assert redigested.rc == 1
    assert TEAM_ART in redigested.stderr, redigested.stderr

    def bad_mode(data: dict[str, Any]) -> None:
        data["inputs"]["drift_modes"] = {"team": "sometimes"}

    malformed = _tampered(team, bad_mode, redigest=True)
    assert malformed.rc == 1
    assert "malformed at inputs.drift_modes.team" in malformed.stderr, malformed.stderr

    def drop_kept(data: dict[str, Any]) -> None:
        data["kept"] = []

    assert _tampered(team, drop_kept, redigest=False).rc == 1
    dropped = _tampered(team, drop_kept, redigest=True)
    assert (dropped.rc, dropped.stderr) == (1, (
        "Error: The saved plan's changes differ from the plan computed now: the fields left "
        f'live (driftMode warn) are [] in the plan file but ["{TEAM_ART}"] now.\n'
        "  hint: Do not edit plan files. Run `stackctl plan -o FILE` again and review it.\n"))
    assert snapshot(_config()) == before
    assert _team_path(team) == "/tmp/team-by-hand"


# -- --adopt for profile settings ------------------------------------------------------


def test_warn_keeps_and_adopt_takes_a_profiles_active_stack(team: Path) -> None:
    assert _run(team, "stack", "set", "default").rc == 0  # by hand: team's active stack
    _team_mode(team, "warn")
    planned = _run(team, "plan", "t")
    assert planned.rc == 0, planned.stderr
    assert ("  ! profile/team\n      active_stack: default live, the manifest says s\n"
            in planned.stdout)
    assert _run(team, "apply", "t", "-y").rc == 0
    assert "profile/team" in _run(team, "plan", "t").stdout.split("left as is")[1]
    adopted = _run(team, "apply", "t", "-y", "--adopt", "profile/team")
    assert adopted.rc == 0, adopted.stderr
    drift = json.loads(_run(team, "drift", "t", "--format", "json").stdout)
    assert "profile/team" not in [d["address"] for d in drift["drift"]]
    exported = _run(team, "profile", "list").stdout
    assert "team" in exported


def test_warn_keeps_and_adopt_takes_the_global_active_profile(team: Path) -> None:
    assert _run(team, "profile", "create", "other").rc == 0
    assert _run(team, "profile", "set", "other").rc == 0  # by hand: the active profile
    _warn(team)
    planned = _run(team, "plan", "t")
    assert planned.rc == 0, planned.stderr
    assert ("  ! global\n      active_profile: other live, the manifest says team\n"
            in planned.stdout)
    assert _run(team, "apply", "t", "-y").rc == 0
    assert "  ! global\n" in _run(team, "plan", "t").stdout  # kept again
    adopted = _run(team, "apply", "t", "-y", "--adopt", "global")
    assert adopted.rc == 0, adopted.stderr
    drift = json.loads(_run(team, "drift", "t", "--format", "json").stdout)
    assert [d["address"] for d in drift["drift"]] == [TEAM_ART]  # global is recorded
    # the manifest still says team: now an ordinary change, no longer drift
    assert "active_profile: other → team" in _run(team, "plan", "t").stdout


REPOSITORY = """\
---
apiVersion: stackctl/v1
kind: Repository
metadata: {name: r}
spec: {path: .., activeProfile: team, activeStack: s}
"""


def test_warn_keeps_and_adopt_takes_a_repositorys_active_stack(team: Path) -> None:
    (team / "t" / "team.yaml").write_text((team / "t" / "team.yaml").read_text() + REPOSITORY)
    (team / "stackctl.yaml").write_text("driftMode: remediate\n")  # the project's root
    assert _run(team, "apply", "t", "-y", "--force").rc == 0
    assert _run(team, "stack", "set", "default").rc == 0  # by hand, in the repository
    _warn(team)
    address = f"repository/{team}"
    planned = _run(team, "plan", "t")
    assert planned.rc == 0, planned.stderr
    assert (f"  ! {address}\n      active_stack: default live, the manifest says s\n"
            in planned.stdout)
    assert _run(team, "apply", "t", "-y").rc == 0
    assert f"  ! {address}\n" in _run(team, "plan", "t").stdout
    assert _run(team, "apply", "t", "-y", "--adopt", address).rc == 0
    drift = json.loads(_run(team, "drift", "t", "--format", "json").stdout)
    assert address not in [d["address"] for d in drift["drift"]]


def test_repository_and_global_settings_follow_the_projects_mode_not_a_profiles(
        team: Path) -> None:
    """A repository's settings and the global active profile belong to no profile (which
    one would it be: the manifest's or the live one?): the project's mode rules them, even
    when the profile they name sets its own."""
    _team_mode(team, "warn")
    (team / "t" / "team.yaml").write_text((team / "t" / "team.yaml").read_text() + REPOSITORY)
    (team / "stackctl.yaml").write_text("driftMode: remediate\n")  # the project's root
    assert _run(team, "apply", "t", "-y", "--force").rc == 0
    assert _run(team, "profile", "create", "other").rc == 0
    assert _run(team, "profile", "set", "other", "--global").rc == 0  # by hand
    assert _run(team, "stack", "set", "default").rc == 0  # by hand, in the repository
    planned = _run(team, "plan", "t")
    assert planned.rc == 0, planned.stderr
    assert ("~ update global\n      active_profile: other → team  (reverts a change made "
            "outside stackctl)\n") in planned.stdout
    assert (f"~ update repository/{team}\n      active_stack: default → s  (reverts a change "
            "made outside stackctl)\n") in planned.stdout
    assert "left as is" not in planned.stdout
    _refuse(team)  # the project refuses; profile team still warns
    refused = _run(team, "plan", "t")
    assert refused.rc == 1
    assert refused.stderr.startswith("Error: driftMode is refuse (stackctl.yaml) and the plan "
                                     "would undo changes made outside stackctl to 2 objects")
    assert "\n  global: active_profile is 'other' live" in refused.stderr
    assert f"\n  repository/{team}: active_stack is 'default' live" in refused.stderr


OTHER = """\
---
apiVersion: stackctl/v1
kind: Profile
metadata: {name: other}
spec: {}
"""


def test_warn_refuses_to_keep_half_of_a_repositorys_profile_and_stack(team: Path) -> None:
    """Warn keeping a hand-set active stack while the manifest moves the repository to
    another profile would pair that profile with a stack it does not have: refused."""
    base = (team / "t" / "team.yaml").read_text()
    (team / "t" / "team.yaml").write_text(base + REPOSITORY)
    (team / "stackctl.yaml").write_text("driftMode: remediate\n")  # the project's root
    assert _run(team, "apply", "t", "-y", "--force").rc == 0
    assert _run(team, "stack", "register", "hand", "-o", "default", "-a", "default",
                "-m", "default").rc == 0
    assert _run(team, "stack", "set", "hand").rc == 0  # by hand, in the repository
    _warn(team)
    (team / "t" / "team.yaml").write_text(
        base + OTHER + REPOSITORY.replace("activeProfile: team, activeStack: s",
                                          "activeProfile: other, activeStack: default"))
    before = snapshot(_config())
    planned = _run(team, "plan", "t")
    assert planned.rc == 1, planned.stdout
    assert (f"  repository/{team}: active_stack is 'hand' live (set outside stackctl), the "
            "plan would make it 'default'; warn keeps changed fields only, not this\n"
            ) in planned.stderr
    assert _run(team, "apply", "t", "-y").rc == 1
    assert snapshot(_config()) == before
    applied = _run(team, "apply", "t", "-y", "--force")
    assert applied.rc == 0, applied.stderr


def test_adopt_of_a_field_without_a_record_is_an_error(team: Path) -> None:
    _warn(team)
    assert _run(team, "artifact-store", "delete", "art").rc != 0  # used by stack s
    before = snapshot(_config())
    result = _run(team, "plan", "t", "--adopt", "profile/team")
    assert (result.rc, result.stdout) == (1, "")
    assert result.stderr.startswith("Error: --adopt profile/team: not an object changed "
                                    f"outside stackctl in this plan (drifted: {TEAM_ART}).")
    assert snapshot(_config()) == before


FLAVOR = """\
---
apiVersion: stackctl/v1
kind: Flavor
metadata: {name: vault, profile: team}
spec:
  type: orchestrator
  source: my_pkg.VaultOrchestrator
  configSchema: {type: object, properties: {host: {type: string}}}
"""


def test_warn_keeps_and_adopt_takes_a_flavors_source(team: Path) -> None:
    (team / "t" / "team.yaml").write_text((team / "t" / "team.yaml").read_text() + FLAVOR)
    assert _run(team, "apply", "t", "-y", "--force").rc == 0
    stacks = _config() / "profiles" / "team" / "stacks.yaml"
    text = stacks.read_text()
    assert "my_pkg.VaultOrchestrator" in text
    stacks.write_text(text.replace("my_pkg.VaultOrchestrator", "my_pkg.ByHand"))  # by hand
    _warn(team)
    address = "team/flavor/orchestrator/vault"
    planned = _run(team, "plan", "t")
    assert planned.rc == 0, planned.stderr
    assert (f"  ! {address}\n      source: my_pkg.ByHand live, the manifest says "
            "my_pkg.VaultOrchestrator\n") in planned.stdout
    assert _run(team, "apply", "t", "-y").rc == 0
    assert "my_pkg.ByHand" in stacks.read_text()
    assert _run(team, "apply", "t", "-y", "--adopt", address).rc == 0
    drift = json.loads(_run(team, "drift", "t", "--format", "json").stdout)
    assert address not in [d["address"] for d in drift["drift"]]
    assert "my_pkg.ByHand" in stacks.read_text()


VERTEX = """\
apiVersion: stackctl/v1
kind: Component
metadata: {{name: v}}
spec:
  type: orchestrator
  flavor: vertex
  config: {{project: p, location: europe-west1, labels: {{team: ml, env: {env}}}}}
"""
VERTEX_ADDRESS = "default/orchestrator/v"


def test_warn_keeps_only_the_drifted_nested_key(work: Path) -> None:
    """A drifted key inside a config mapping is kept alone: the manifest's other keys of
    the same mapping still apply, and only the kept key stays drift."""
    planned = _warned_change(work, "v.yaml", VERTEX.format(env="dev"),
                             ("orchestrator", "update", "v",
                              '--labels={"team": "by-hand", "env": "dev", "extra": "x"}'),
                             VERTEX.format(env="prod"))
    assert (f"~ update {VERTEX_ADDRESS}\n      config.labels.env: dev → prod\n"
            in planned.stdout)
    assert (f"  ! {VERTEX_ADDRESS}\n"
            "      config.labels.extra: x live, the manifest says (absent)\n"
            "      config.labels.team: by-hand live, the manifest says ml\n") in planned.stdout
    assert _run(work, "apply", "m", "-y").rc == 0
    exported = _export(work, VERTEX_ADDRESS)
    assert "env: prod" in exported
    assert "team: by-hand" in exported
    assert "extra: x" in exported
    drift = json.loads(_run(work, "drift", "m", "--format", "json").stdout)
    [entry] = [d for d in drift["drift"] if d["address"] == VERTEX_ADDRESS]
    assert [f["path"] for f in entry["fields"]] == ["config.labels.extra", "config.labels.team"]
    again = _run(work, "plan", "m")
    assert f"~ update {VERTEX_ADDRESS}" not in again.stdout
    assert "config.labels.team: by-hand live" in again.stdout
    # adopting takes the drifted nested keys only, too
    assert _run(work, "apply", "m", "-y", "--adopt", VERTEX_ADDRESS).rc == 0
    drift = json.loads(_run(work, "drift", "m", "--format", "json").stdout)
    assert VERTEX_ADDRESS not in [d["address"] for d in drift["drift"]]
    assert "env: prod" in _export(work, VERTEX_ADDRESS)


LISTS_FLAVOR = """\
---
apiVersion: stackctl/v1
kind: Flavor
metadata: {{name: lists, profile: team}}
spec:
  type: orchestrator
  source: my_pkg.ListsOrchestrator
  configSchema:
    type: object
    properties: {{hosts: {{type: array, items: {{type: string}}}}, port: {{type: integer}}}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: l, profile: team}}
spec: {{type: orchestrator, flavor: lists, config: {{hosts: [a, b], port: {port}}}}}
"""


def test_warn_keeps_a_drifted_list_whole(team: Path) -> None:
    """A list's items have no keys: an item changed outside stackctl keeps the whole list
    live, and the manifest's other fields still apply."""
    base = (team / "t" / "team.yaml").read_text()
    (team / "t" / "team.yaml").write_text(base + LISTS_FLAVOR.format(port=1))
    assert _run(team, "apply", "t", "-y", "--force").rc == 0
    assert _run(team, "orchestrator", "update", "l", '--hosts=["a", "c"]').rc == 0
    _warn(team)
    (team / "t" / "team.yaml").write_text(base + LISTS_FLAVOR.format(port=2))
    planned = _run(team, "plan", "t")
    assert planned.rc == 0, planned.stderr
    assert "~ update team/orchestrator/l\n      config.port: 1 → 2\n" in planned.stdout
    assert "config.hosts.1: c live, the manifest says b" in planned.stdout
    applied = _run(team, "apply", "t", "-y")
    assert applied.rc == 0, applied.stderr
    exported = _export(team, "team/orchestrator/l")
    assert "port: 2" in exported
    assert "- c" in exported
    assert "config.hosts.1: c live" in _run(team, "plan", "t").stdout  # still kept


DB = """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: db}
spec:
  type: metadata_store
  flavor: mysql
  config: {host: db.internal, database: ml, username: ml, password: manifest-pw-5521}
"""


def _files_hold(root: Path, text: str) -> bool:
    return any(text in value for value in snapshot(root).values())


def test_warn_keeps_a_secret_without_showing_it(work: Path) -> None:
    (work / "m" / "db.yaml").write_text(DB)
    assert _run(work, "apply", "m", "-y", "--force").rc == 0
    assert _run(work, "metadata-store", "update", "db", "--password=by-hand-pw-7730").rc == 0
    _warn(work)
    planned = _run(work, "plan", "m", "-o", "p.json")
    assert planned.rc == 0, planned.stderr
    assert ("  ! default/metadata_store/db\n      config.password: (sensitive) live, the "
            "manifest says (sensitive)\n") in planned.stdout
    shown = planned.stdout + (work / "p.json").read_text()
    assert "by-hand-pw-7730" not in shown
    assert "manifest-pw-5521" not in shown
    assert _run(work, "apply", "p.json").rc == 0
    assert _files_hold(_config(), "by-hand-pw-7730")  # left live
    assert not _files_hold(_config(), "manifest-pw-5521")
    again = _run(work, "plan", "m")
    assert "config.password: (sensitive) live" in again.stdout  # still drift, still kept
    assert _run(work, "apply", "m", "-y", "--force").rc == 0
    assert _files_hold(_config(), "manifest-pw-5521")


TEAM_TRACKER = """\
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: t, profile: team}}
spec:
  type: experiment_tracker
  flavor: mlflow
  config: {{tracking_uri: "http://v1", tracking_insecure_tls: {tls}}}
"""


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.db),
                                     pytest.param("mariadb", marks=pytest.mark.db)])
def test_warn_on_a_sql_store(backend: str, tmp_path: Path,
                             request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path / 'team.db'}" if backend == "sqlite"
           else str(request.getfixturevalue(f"{backend}_url")))
    work = tmp_path / "work"
    (work / "t").mkdir(parents=True)
    manifest = work / "t" / "team.yaml"

    def write(tls: str) -> None:
        manifest.write_text(TEAM.format(mode=", driftMode: warn").replace(
            "spec: {activeStack: s", f"spec: {{store: {{type: sql, url: '{url}'}}, "
                                     "activeStack: s") + TEAM_TRACKER.format(tls=tls))

    write("false")
    applied = _run(work, "apply", "t", "-y")
    assert applied.rc == 0, applied.stderr
    assert _run(work, "experiment-tracker", "update", "t",
                "--tracking_uri=http://by-hand").rc == 0
    write("true")
    planned = _run(work, "plan", "t")
    assert "      config.tracking_insecure_tls: false → true\n" in planned.stdout
    assert ("  ! team/experiment_tracker/t\n      config.tracking_uri: http://by-hand live, the "
            "manifest says http://v1\n") in planned.stdout
    assert _run(work, "apply", "t", "-y").rc == 0
    exported = _export(work, "team/experiment_tracker/t")
    assert "tracking_insecure_tls: true" in exported
    assert "tracking_uri: http://by-hand" in exported
    again = _run(work, "plan", "t")
    assert "config.tracking_uri: http://by-hand live" in again.stdout
    assert "~ update team/experiment_tracker/t" not in again.stdout
