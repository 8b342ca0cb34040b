"""Drift modes: stackctl.yaml's driftMode says what plan/apply do with out-of-band edits.

remediate (the default) reverts them; refuse fails plan and apply, naming each
drifted address and the ways out: take the live value into the manifest or adopt it
with --adopt ADDRESS (the plan then records it without changing live) or pass --force
to revert.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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
        "'refuse'] [project-file]")
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
