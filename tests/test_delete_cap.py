"""The cap on deletions: maxDeletes in stackctl.yaml or --max-deletes N bounds one plan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import STACKCTL, run_process, snapshot

COMPONENT = """\
apiVersion: stackctl/v1
kind: Component
metadata: {{name: {name}}}
spec: {{type: artifact_store, flavor: local, config: {{path: /tmp/{name}}}}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Three managed components applied; then the manifests lose two of them."""
    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)
    for name in ("a1", "a2", "a3"):
        (work / "m" / f"{name}.yaml").write_text(COMPONENT.format(name=name))
    created = run_process([STACKCTL, "apply", "m", "-y"], cwd=work)
    assert created.rc == 0, created.stderr
    (work / "m" / "a2.yaml").unlink()
    (work / "m" / "a3.yaml").unlink()
    (work / "stackctl.yaml").write_text("maxDeletes: 1\n")
    return work


CAPPED = ("Error: The plan deletes 2 objects, more than the cap of 1 (maxDeletes in "
          "stackctl.yaml); nothing was planned or applied.\n"
          "  hint: Check the deletions with `stackctl plan`; to allow them, pass "
          "--max-deletes 2.\n")


def test_project_cap_refuses_plan_and_apply(project: Path) -> None:
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])  # conftest's private config dir
    before = snapshot(config)
    planned = run_process([STACKCTL, "plan", "m", "--prune"], cwd=project)
    assert (planned.rc, planned.stdout, planned.stderr) == (1, "", CAPPED)
    applied = run_process([STACKCTL, "apply", "m", "--prune", "-y"], cwd=project)
    assert (applied.rc, applied.stderr) == (1, CAPPED)
    assert snapshot(config) == before  # nothing deleted


def test_without_prune_nothing_is_deleted_so_the_cap_holds(project: Path) -> None:
    assert run_process([STACKCTL, "plan", "m"], cwd=project).rc == 0


def test_flag_overrides_the_project_cap(project: Path) -> None:
    planned = run_process([STACKCTL, "plan", "m", "--prune", "--max-deletes", "2"], cwd=project)
    assert planned.rc == 0, planned.stderr
    assert "Plan: 0 to create, 0 to update, 2 to delete." in planned.stdout
    lower = run_process([STACKCTL, "plan", "m", "--prune", "--max-deletes", "0"], cwd=project)
    assert lower.rc == 1
    assert "more than the cap of 0 (--max-deletes)" in lower.stderr
    applied = run_process([STACKCTL, "apply", "m", "--prune", "-y", "--max-deletes", "2"],
                          cwd=project)
    assert applied.rc == 0, applied.stderr
    again = run_process([STACKCTL, "plan", "m", "--prune"], cwd=project)
    assert again.rc == 0  # nothing left to delete


def test_saved_plan_keeps_its_override(project: Path) -> None:
    saved = run_process([STACKCTL, "plan", "m", "--prune", "--max-deletes", "2", "-o", "p.json"],
                        cwd=project)
    assert saved.rc == 0, saved.stderr
    applied = run_process([STACKCTL, "apply", "p.json"], cwd=project)
    assert applied.rc == 0, applied.stderr


def test_negative_flag_is_a_usage_error(project: Path) -> None:
    result = run_process([STACKCTL, "plan", "m", "--max-deletes", "-1"], cwd=project)
    assert result.rc == 2
    assert ("Error: Invalid value for '--max-deletes': Input should be greater than or equal "
            "to 0") in result.stderr


def test_bad_project_cap_is_a_located_error(project: Path) -> None:
    (project / "stackctl.yaml").write_text("maxDeletes: lots\n")
    result = run_process([STACKCTL, "validate", "m"], cwd=project)
    assert result.rc == 1
    assert "stackctl.yaml:1:13: error: maxDeletes: expected integer, found str" in result.stdout
