"""Policies as code (CEL): a corpus of cases as files, the output formats, exit codes, plan.

``tests/cases/policy/<case>/`` holds a policy set; the test runs it together
with ``tests/cases/policy/base.yaml`` (the resources the policies judge) and
compares every diagnostic with ``<case>/expected``, one per line:
``<file>:<line>:<col> <severity> <rule> <message>``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import STACKCTL, run_process

from stackctl.compiler.compile import compile_manifests
from stackctl.compiler.project import Inputs

CASES = Path(__file__).resolve().parent / "cases" / "policy"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def _case_dir(name: str, tmp_path: Path) -> Path:
    work = tmp_path / name
    work.mkdir()
    shutil.copy(CASES / "base.yaml", work / "base.yaml")
    for path in (CASES / name).glob("*.yaml"):
        shutil.copy(path, work / path.name)
    return work


def _lines(work: Path) -> list[str]:
    compiled = compile_manifests(Inputs(paths=(str(work),)), cwd=work)
    return [f"{Path(d.location.path).relative_to(work)}:{d.location.line}:{d.location.column} "
            f"{d.severity} {d.rule} {d.message}" for d in compiled.diagnostics]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_policy_corpus(name: str, tmp_path: Path) -> None:
    expected = [line for line in (CASES / name / "expected").read_text().splitlines() if line]
    assert _lines(_case_dir(name, tmp_path)) == expected


def test_corpus_has_every_kind_of_case() -> None:
    assert {"valid", "violating", "broken", "exception-live", "exception-expired"} <= set(
        CASE_NAMES)


def test_without_the_policy_the_base_is_valid(tmp_path: Path) -> None:
    shutil.copy(CASES / "base.yaml", tmp_path / "base.yaml")
    assert _lines(tmp_path) == []


def test_text_format_and_exit_code_of_a_deny(tmp_path: Path) -> None:
    work = _case_dir("violating", tmp_path)
    result = run_process([STACKCTL, "validate", "."], cwd=work)
    assert result.rc == 1
    lines = result.stdout.splitlines()
    assert ("base.yaml:9:18: error: stacks in profile prod must not use a local orchestrator "
            "[policy/prod-no-local-orchestrator]") in lines
    assert ("base.yaml:14:18: warning: every s3 artifact store path starts with s3://ml- "
            "[policy/s3-paths]") in lines
    # audit is not in text output: JSON, markdown and SARIF only
    assert "kubeflow-needs-registry" not in result.stdout


def test_json_has_audit_and_github_has_no_audit(tmp_path: Path) -> None:
    work = _case_dir("violating", tmp_path)
    data = json.loads(run_process([STACKCTL, "validate", ".", "--format", "json"],
                                  cwd=work).stdout)
    assert data["valid"] is False
    audit = [d for d in data["diagnostics"] if d["rule"] == "policy/kubeflow-needs-registry"]
    assert audit == [{"file": "base.yaml", "line": 27, "column": 18, "severity": "note",
                      "rule": "policy/kubeflow-needs-registry",
                      "message": "a stack with a kubeflow orchestrator needs a container "
                                 "registry", "hint": None}]
    github = run_process([STACKCTL, "validate", ".", "--format", "github"], cwd=work).stdout
    assert ("::error file=base.yaml,line=9,col=18,title=policy/prod-no-local-orchestrator::"
            "stacks in profile prod must not use a local orchestrator") in github.splitlines()
    assert "::warning file=base.yaml,line=14" in github
    assert "kubeflow-needs-registry" not in github


def test_warn_and_audit_never_fail(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text((CASES / "base.yaml").read_text())
    (tmp_path / "policy.yaml").write_text("""\
apiVersion: stackctl/v1
kind: Policy
metadata: {name: soft}
spec:
  rules:
    - {expression: "false", message: only a warning, severity: warn}
    - {expression: "false", message: only audited, severity: audit}
""")
    result = run_process([STACKCTL, "validate", ".", "--format", "json"], cwd=tmp_path)
    assert result.rc == 0
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert {d["severity"] for d in data["diagnostics"]} == {"warning", "note"}


def test_policy_schema_errors_are_located(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text("""\
apiVersion: stackctl/v1
kind: Policy
metadata: {name: bad}
spec:
  rules:
    - {expression: "true", message: m, severity: block}
""")
    assert _lines(tmp_path)[0].startswith("policy.yaml:6:50 error schema spec.rules.0.severity")


_META = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: prod}}
spec: {{}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: meta, profile: prod}}
spec:
  type: metadata_store
  flavor: mysql
  config: {{host: {host}, port: 3306, database: ml, username: ml}}
---
apiVersion: stackctl/v1
kind: Policy
metadata: {{name: keep-prod-db-host}}
spec:
  rules:
    - expression: oldObject == null || oldObject.spec.config.host == object.spec.config.host
      message: the host of a production metadata store never changes
      match: {{types: [metadata_store], profiles: [prod]}}
"""


def test_plan_gives_old_object_so_a_rule_can_forbid_a_transition(tmp_path: Path) -> None:
    manifests = tmp_path / "m.yaml"
    manifests.write_text(_META.format(host="db-1.internal"))
    created = run_process([STACKCTL, "apply", "m.yaml", "-y"], cwd=tmp_path)
    assert created.rc == 0, created.stderr
    manifests.write_text(_META.format(host="db-2.internal"))
    # validate is offline: there is no oldObject, the change is fine there
    assert run_process([STACKCTL, "validate", "m.yaml"], cwd=tmp_path).rc == 0
    planned = run_process([STACKCTL, "plan", "m.yaml"], cwd=tmp_path)
    assert planned.rc == 1
    assert ("m.yaml:8:18: error: the host of a production metadata store never changes "
            "[policy/keep-prod-db-host]") in planned.stderr.splitlines()
    assert planned.stderr.endswith(
        "  hint: Policies are checked against the live objects (oldObject) here; fix the "
        "manifests or the policy.\n")
    applied = run_process([STACKCTL, "apply", "m.yaml", "-y"], cwd=tmp_path)
    assert applied.rc == 1
    export = run_process([STACKCTL, "export", "--profile", "prod", "-o", "out"], cwd=tmp_path)
    assert export.rc == 0
    assert "db-1.internal" in (tmp_path / "out" / "prod.yaml").read_text()  # nothing changed


_SOFT = """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: art}
spec: {type: artifact_store, flavor: local, config: {path: /tmp/art}}
---
apiVersion: stackctl/v1
kind: Policy
metadata: {name: soft}
spec:
  rules:
    - {expression: "object.spec.flavor != 'local'", message: prefer s3, severity: warn,
       match: {kinds: [Component]}}
    - {expression: "false", message: seen in the audit, severity: audit,
       match: {kinds: [Component]}}
"""


def test_plan_carries_warnings_and_audit_notes_in_json_and_markdown(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(_SOFT)
    text = run_process([STACKCTL, "plan", "m.yaml"], cwd=tmp_path)
    assert text.rc == 0
    assert "m.yaml:3:18: warning: prefer s3 [policy/soft]" in text.stderr.splitlines()
    assert "seen in the audit" not in text.stderr + text.stdout
    data = json.loads(run_process([STACKCTL, "plan", "m.yaml", "--format", "json"],
                                  cwd=tmp_path).stdout)
    assert data["policy"] == [
        {"file": "m.yaml", "line": 3, "column": 18, "severity": "warning", "rule": "policy/soft",
         "message": "prefer s3"},
        {"file": "m.yaml", "line": 3, "column": 18, "severity": "note", "rule": "policy/soft",
         "message": "seen in the audit"}]
    markdown = run_process([STACKCTL, "plan", "m.yaml", "--format", "markdown"],
                           cwd=tmp_path).stdout
    assert "- ⚠️ warning `m.yaml:3:18`: prefer s3 [policy/soft]" in markdown.splitlines()
    assert "- 📝 audit `m.yaml:3:18`: seen in the audit [policy/soft]" in markdown.splitlines()
    saved = run_process([STACKCTL, "plan", "m.yaml", "-o", "p.json"], cwd=tmp_path)
    assert saved.rc == 0
    assert json.loads((tmp_path / "p.json").read_text())["policy"] == data["policy"]
    assert run_process([STACKCTL, "apply", "p.json"], cwd=tmp_path).rc == 0


def test_sarif_has_every_severity_with_its_level(tmp_path: Path) -> None:
    work = _case_dir("violating", tmp_path)
    result = run_process([STACKCTL, "validate", ".", "--format", "sarif"], cwd=work)
    assert result.rc == 1
    found = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"])
             for r in json.loads(result.stdout)["runs"][0]["results"]]
    assert found == [
        ("policy/prod-no-local-orchestrator", "error", {"startLine": 9, "startColumn": 18}),
        ("policy/s3-paths", "warning", {"startLine": 14, "startColumn": 18}),
        ("policy/no-such-field", "error", {"startLine": 22, "startColumn": 18}),
        ("policy/kubeflow-needs-registry", "note", {"startLine": 27, "startColumn": 18})]
