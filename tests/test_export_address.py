"""`stackctl export ADDRESS…`: manifests for just those live objects (adopt one at a time)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import STACKCTL, run_process


def _register(cwd: Path, name: str) -> None:
    result = run_process([STACKCTL, "artifact-store", "register", name, "--flavor", "local",
                          f"--path=/tmp/{name}"], cwd=cwd)
    assert result.rc == 0, result.stderr


def test_export_one_hand_made_object_then_adopt_it(tmp_path: Path) -> None:
    _register(tmp_path, "hand")
    _register(tmp_path, "other")
    result = run_process([STACKCTL, "export", "default/artifact_store/hand", "-o", "-"],
                         cwd=tmp_path)
    assert result.rc == 0, result.stderr
    assert result.stdout == (
        "apiVersion: stackctl/v1\nkind: Component\nmetadata:\n  name: hand\n"
        "  profile: default\nspec:\n  type: artifact_store\n  flavor: local\n"
        "  config:\n    path: /tmp/hand\n")
    (tmp_path / "m").mkdir()
    written = run_process([STACKCTL, "export", "default/artifact_store/hand", "-o", "m"],
                          cwd=tmp_path)
    assert written.rc == 0, written.stderr
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["default.yaml"]
    plan = json.loads(run_process([STACKCTL, "plan", "m", "--format", "json"],
                                  cwd=tmp_path).stdout)
    hand = next(c for c in plan["changes"] if c["address"] == "default/artifact_store/hand")
    assert (hand["action"], hand["adopt"]) == ("no-op", True)  # adopted, not re-created
    assert "default/artifact_store/other" in plan["unmanaged"]


def test_unknown_address_is_not_found_and_writes_nothing(tmp_path: Path) -> None:
    _register(tmp_path, "hand")
    (tmp_path / "m").mkdir()
    result = run_process([STACKCTL, "export", "default/artifact_store/nope", "-o", "m"],
                         cwd=tmp_path)
    assert result.rc == 1
    assert result.stderr.startswith(
        "Error: Not in the live configuration: default/artifact_store/nope.\n")
    assert list((tmp_path / "m").iterdir()) == []


def test_bad_address_and_mixed_options_are_usage_errors(tmp_path: Path) -> None:
    _register(tmp_path, "hand")
    bad = run_process([STACKCTL, "export", "nonsense", "-o", "-"], cwd=tmp_path)
    assert bad.rc == 1
    assert bad.stderr.startswith("Error: 'nonsense' is not a resource address.\n")
    mixed = run_process([STACKCTL, "export", "default/artifact_store/hand", "--all"],
                        cwd=tmp_path)
    assert mixed.rc == 1
    assert mixed.stderr == "Error: Give ADDRESSes or --profile/--all, not both.\n"
