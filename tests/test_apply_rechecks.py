"""The checks apply makes inside each store's lock, and the salt of saved plans.

Nothing else in the suite changes the live state between planning and taking
the lock, so these tests do exactly that: they compute a plan, change the
store behind its back, then apply, and require a refusal with nothing
written. Each was written against a mutation that survived the suite (the
re-check made a no-op, the lineage check removed, fingerprints left unsalted).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackctl.apply import apply_plan
from stackctl.compiler.compile import compile_manifests
from stackctl.compiler.desired import DesiredState
from stackctl.compiler.project import Inputs
from stackctl.errors import StaleStateError
from stackctl.model import Component, ComponentType
from stackctl.plan.compute import compute_plan
from stackctl.plan.live import read_live
from stackctl.plan.model import Plan
from stackctl.workspace import Workspace

MANIFEST = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {store: {type: local}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: art, profile: team}
spec: {type: artifact_store, flavor: s3, config: {path: PATH}}
"""
ART = (ComponentType.ARTIFACT_STORE, "art")


def _plan(root: Path, path: str, plan_id: str | None = None) -> tuple[Plan, DesiredState]:
    (root / "m.yaml").write_text(MANIFEST.replace("PATH", path))
    compiled = compile_manifests(Inputs(paths=(str(root / "m.yaml"),)))
    assert compiled.ok, compiled.diagnostics
    live = read_live(Workspace(), compiled.desired.profiles, compiled.desired.repositories)
    return compute_plan(compiled.desired, live, inputs={}, plan_id=plan_id), compiled.desired


def _art_path() -> object:
    comp = Workspace().state("team").component(*ART)
    assert comp is not None
    return comp.config["path"]


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    apply_plan(Workspace(), *_plan(tmp_path, "s3://ml/one"))
    assert _art_path() == "s3://ml/one"
    return tmp_path


def test_a_change_between_planning_and_the_lock_is_refused_inside_the_lock(
        applied: Path, config_dir: Path) -> None:
    plan, desired = _plan(applied, "s3://ml/two")
    # someone else changes the very component, after the plan read it
    with Workspace().store("team").transaction() as tx:
        comp = tx.before.components[ART]
        tx.put_component(Component(comp.type, comp.name, comp.flavor, comp.uuid,
                                   {"path": "s3://ml/by-hand"}))
    state = (config_dir / "profiles" / "team" / ".stackctl" / "state.json").read_text()
    with pytest.raises(StaleStateError) as err:
        apply_plan(Workspace(), plan, desired)
    assert str(err.value) == ("Live state changed while applying; nothing was written to this "
                              "store:\n  team/artifact_store/art\n  hint: Run `stackctl plan` "
                              "again.")
    assert _art_path() == "s3://ml/by-hand"
    assert (config_dir / "profiles" / "team" / ".stackctl" / "state.json").read_text() == state


def test_a_store_replaced_between_planning_and_the_lock_is_refused(
        applied: Path, config_dir: Path) -> None:
    plan, desired = _plan(applied, "s3://ml/two")
    state_file = config_dir / "profiles" / "team" / ".stackctl" / "state.json"
    state = json.loads(state_file.read_text())
    state["lineage"] = "00000000-0000-0000-0000-000000000000"  # same objects, another store
    state_file.write_text(json.dumps(state))
    with pytest.raises(StaleStateError, match=r"^The store of profile 'team' was replaced since "
                       r"the plan was made \(lineage differs\)\.$"):
        apply_plan(Workspace(), plan, desired)
    assert _art_path() == "s3://ml/one"


def test_desired_fingerprints_are_salted_by_the_plan_id(tmp_path: Path) -> None:
    from stackctl.fingerprint import fingerprint

    first, desired = _plan(tmp_path, "s3://ml/one")
    second, _ = _plan(tmp_path, "s3://ml/one")
    address = "team/artifact_store/art"
    # the same manifests give another fingerprint under another plan: a plan file cannot
    # be used to guess a secret by hashing candidates without the plan's own salt
    assert first.desired_prints[address] != second.desired_prints[address]
    view = next(c.after for c in first.changes if c.address == address)
    assert view is not None
    assert first.desired_prints[address] != fingerprint(dict(view))
    again, _ = _plan(tmp_path, "s3://ml/one", plan_id=first.id)
    assert again.desired_prints == first.desired_prints
    del desired
