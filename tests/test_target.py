"""Targeted plans: --target (repeatable, globs) brings what a target needs; --exclude."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import STACKCTL, run_process

MANIFESTS = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: prod}
spec: {}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: k, profile: prod}
spec: {type: orchestrator, flavor: kubeflow}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: a, profile: prod}
spec: {type: artifact_store, flavor: local, config: {path: /tmp/a}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: other, profile: prod}
spec: {type: artifact_store, flavor: local, config: {path: /tmp/other}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: kf, profile: prod}
spec: {components: {orchestrator: k, artifact_store: a, metadata_store: default}}
"""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "m.yaml").write_text(MANIFESTS)
    return tmp_path


def _addresses(plan_json: str) -> list[str]:
    return [c["address"] for c in json.loads(plan_json)["changes"]]


def test_targeted_stack_brings_its_components_and_profile(work: Path) -> None:
    result = run_process([STACKCTL, "plan", "m.yaml", "--target", "prod/stack/kf"], cwd=work)
    assert result.rc == 0, result.stderr
    assert "prod/artifact_store/other" not in result.stdout
    assert "Partial plan: only --target prod/stack/kf and what they need." in result.stdout
    # 4 changes, and the default stack and components the new profile comes with
    assert "Plan: 8 to create, 0 to update, 0 to delete." in result.stdout
    data = run_process([STACKCTL, "plan", "m.yaml", "--target", "prod/stack/kf", "--format",
                        "json"], cwd=work).stdout
    assert sorted(_addresses(data)) == ["prod/artifact_store/a", "prod/orchestrator/k",
                                        "prod/stack/kf", "profile/prod"]
    assert json.loads(data)["inputs"]["targets"] == ["prod/stack/kf"]


def test_glob_target_and_exclude(work: Path) -> None:
    data = run_process([STACKCTL, "plan", "m.yaml", "--target", "prod/artifact_store/*",
                        "--exclude", "prod/artifact_store/other", "--format", "json"],
                       cwd=work).stdout
    assert sorted(_addresses(data)) == ["prod/artifact_store/a", "profile/prod"]


def test_markdown_says_partial(work: Path) -> None:
    text = run_process([STACKCTL, "plan", "m.yaml", "--exclude", "prod/artifact_store/other",
                        "--format", "markdown"], cwd=work).stdout
    assert "_Partial plan: without --exclude prod/artifact_store/other._" in text.splitlines()


def test_excluding_what_a_target_needs_is_an_error(work: Path) -> None:
    result = run_process([STACKCTL, "plan", "m.yaml", "--target", "prod/stack/kf",
                          "--exclude", "prod/orchestrator/k"], cwd=work)
    assert (result.rc, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: prod/stack/kf needs prod/orchestrator/k, which --exclude leaves out.\n"
        "  hint: Drop the --exclude that matches prod/orchestrator/k, or target less than "
        "prod/stack/kf.\n")


def test_target_matching_nothing_is_an_error(work: Path) -> None:
    result = run_process([STACKCTL, "plan", "m.yaml", "--target", "prod/stack/nope"], cwd=work)
    assert result.rc == 1
    assert result.stderr.startswith(
        "Error: --target prod/stack/nope matches no resource of the plan.\n")


def test_apply_target_applies_only_that_part(work: Path) -> None:
    applied = run_process([STACKCTL, "apply", "m.yaml", "-y", "--target", "prod/stack/kf"],
                          cwd=work)
    assert applied.rc == 0, applied.stderr
    rest = run_process([STACKCTL, "plan", "m.yaml", "--format", "json"], cwd=work).stdout
    changed = [c["address"] for c in json.loads(rest)["changes"] if c["action"] != "no-op"]
    assert changed == ["prod/artifact_store/other"]


def test_saved_plan_records_and_keeps_its_targets(work: Path) -> None:
    saved = run_process([STACKCTL, "plan", "m.yaml", "--target", "prod/artifact_store/other",
                         "-o", "p.json"], cwd=work)
    assert saved.rc == 0, saved.stderr
    data = json.loads((work / "p.json").read_text())
    assert (data["inputs"]["targets"], data["inputs"]["excludes"]) == (
        ["prod/artifact_store/other"], [])
    refused = run_process([STACKCTL, "apply", "p.json", "--target", "x"], cwd=work)
    assert refused.rc == 1
    assert run_process([STACKCTL, "apply", "p.json"], cwd=work).rc == 0
    rest = run_process([STACKCTL, "plan", "m.yaml", "--format", "json"], cwd=work).stdout
    changed = sorted(c["address"] for c in json.loads(rest)["changes"] if c["action"] != "no-op")
    assert changed == ["prod/artifact_store/a", "prod/orchestrator/k", "prod/stack/kf"]
