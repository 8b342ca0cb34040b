"""`stackctl graph`: profiles → stacks → components from manifests or live, active ones marked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import STACKCTL, run_process

CASE = Path(__file__).resolve().parent / "cases" / "graph" / "stacks.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize(("fmt", "golden"), [("mermaid", "graph_manifests.mmd"),
                                              ("dot", "graph_manifests.dot")])
def test_manifest_graph_matches_golden(fmt: str, golden: str, tmp_path: Path) -> None:
    shutil.copy(CASE, tmp_path / "stacks.yaml")
    result = run_process([STACKCTL, "graph", "stacks.yaml", "--format", fmt], cwd=tmp_path)
    assert (result.rc, result.stderr) == (0, "")
    assert result.stdout == (GOLDEN / golden).read_text()


def test_mermaid_is_the_default_and_marks_active_ones(tmp_path: Path) -> None:
    shutil.copy(CASE, tmp_path / "stacks.yaml")
    out = run_process([STACKCTL, "graph", "stacks.yaml"], cwd=tmp_path).stdout
    assert out.startswith("flowchart LR\n")
    assert '["stack kf ★ active"]' in out
    assert '["profile prod ★"]' in out
    assert '["stack local"]' in out  # not the active one


def test_json_graph(tmp_path: Path) -> None:
    shutil.copy(CASE, tmp_path / "stacks.yaml")
    data = json.loads(run_process([STACKCTL, "graph", "stacks.yaml", "--format", "json"],
                                  cwd=tmp_path).stdout)
    assert data["source"] == "manifests"
    prod = next(p for p in data["profiles"] if p["name"] == "prod")
    assert prod["active"] is True
    assert [(s["name"], s["active"]) for s in prod["stacks"]] == [("kf", True), ("local", False)]
    assert prod["stacks"][0]["components"] == {"artifact_store": "s3", "metadata_store": "default",
                                               "orchestrator": "kubeflow"}
    assert {"type": "orchestrator", "name": "kubeflow", "flavor": "kubeflow"} in prod["components"]
    # the implicit 'default' components are named by stacks, their flavor unknown here
    assert {"type": "orchestrator", "name": "default", "flavor": None} in prod["components"]


def test_live_graph_after_apply(tmp_path: Path) -> None:
    shutil.copy(CASE, tmp_path / "stacks.yaml")
    assert run_process([STACKCTL, "apply", "stacks.yaml", "-y"], cwd=tmp_path).rc == 0
    data = json.loads(run_process([STACKCTL, "graph", "--live", "--format", "json"],
                                  cwd=tmp_path).stdout)
    assert data["source"] == "live"
    prod = next(p for p in data["profiles"] if p["name"] == "prod")
    assert prod["active"] is True
    assert [(s["name"], s["active"]) for s in prod["stacks"]] == [
        ("default", False), ("kf", True), ("local", False)]
    # live, the default components have their flavors
    assert {"type": "orchestrator", "name": "default", "flavor": "local"} in prod["components"]


def test_live_graph_of_nothing(tmp_path: Path) -> None:
    result = run_process([STACKCTL, "graph", "--live"], cwd=tmp_path)
    assert (result.rc, result.stdout) == (0, "flowchart LR\n")


def test_live_with_paths_is_a_usage_error(tmp_path: Path) -> None:
    result = run_process([STACKCTL, "graph", "x.yaml", "--live"], cwd=tmp_path)
    assert result.rc == 1
    assert result.stderr == ("Error: --live draws the live configuration; give no manifest "
                             "path.\n")


def test_invalid_manifests_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: stackctl/v1\nkind: Stack\n"
                                       "metadata: {name: s}\n"
                                       "spec: {components: {orchestrator: x}}\n")
    result = run_process([STACKCTL, "graph", "bad.yaml"], cwd=tmp_path)
    assert result.rc == 1
    assert result.stdout == ""
    assert "bad.yaml:4:" in result.stderr
