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
from typing import Any

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


# -- evaluation in chunks (stackctl.policy.engine): the same diagnostics as one by one -----------

def _many_components(count: int) -> str:
    """Alternately a local artifact store ``a-N`` (config.path /data/N) and a local
    orchestrator ``o-N`` (no config.path): two rule sets, interleaved in the file."""
    docs = []
    for i in range(count):
        if i % 2 == 0:
            docs.append(f"apiVersion: stackctl/v1\nkind: Component\nmetadata:\n  name: a-{i}\n"
                        f"spec:\n  type: artifact_store\n  flavor: local\n"
                        f"  config: {{path: /data/{i}}}\n")
        else:
            docs.append(f"apiVersion: stackctl/v1\nkind: Component\nmetadata:\n  name: o-{i}\n"
                        f"spec:\n  type: orchestrator\n  flavor: local\n")
    return "---\n".join(docs)


_MANY_POLICIES = """\
apiVersion: stackctl/v1
kind: Policy
metadata: {name: p1}
spec:
  rules:
    - expression: object.metadata.name != 'o-151' || object.spec.config.path == 'x'
      message: rule A
      match: {kinds: [Component]}
    - expression: "!(object.metadata.name in ['a-20', 'o-151', 'a-290', 'o-3'])"
      message: rule B
      match: {kinds: [Component]}
---
apiVersion: stackctl/v1
kind: Policy
metadata: {name: p2}
spec:
  rules:
    - expression: object.spec.config.path != '/data/20'
      message: rule C
      severity: warn
      match: {types: [artifact_store]}
"""


def test_chunks_report_an_erring_rule_and_a_violated_one_on_the_same_resource(
        tmp_path: Path) -> None:
    """300 resources (more than one chunk per rule set), two rule sets interleaved: one
    rule errs on o-151 (no config.path there), which another rule also denies; the
    error splits its chunk, and every diagnostic comes in file order, as one resource
    at a time gives them."""
    from stackctl.policy.engine import CHUNK

    assert CHUNK < 300 // 2
    text = _many_components(300)
    (tmp_path / "m.yaml").write_text(text)
    (tmp_path / "policy.yaml").write_text(_MANY_POLICIES)
    lines = text.splitlines()

    def at(name: str) -> str:
        return f"m.yaml:{lines.index(f'  name: {name}') + 1}:9"

    not_found = 'NOT_FOUND: Key not found in map : "path"'
    assert _lines(tmp_path) == [
        f"{at('o-3')} error policy/p1 rule B",
        f"{at('a-20')} error policy/p1 rule B",
        f"{at('a-20')} warning policy/p2 rule C",
        f"{at('o-151')} error policy/p1 rule A (the rule could not be evaluated: {not_found})",
        f"{at('o-151')} error policy/p1 rule B",
        f"{at('a-290')} error policy/p1 rule B",
    ]


def test_chunked_evaluation_agrees_with_one_resource_at_a_time() -> None:
    from stackctl.policy.engine import Engine

    engine = Engine()
    rules = tuple(engine.add(expression) for expression in (
        "object.spec.config.port > 0",  # errs where there is no port
        "object.metadata.name != 'c-7'",
        "object.spec.flavor != 'local' || object.metadata.name.endsWith('0')",
        "true",
        "object.spec.flavor",  # not a bool: a dyn that is a string
    ))
    objs = [{"kind": "Component", "metadata": {"name": f"c-{i}"},
             "spec": {"flavor": "local" if i % 3 else "s3",
                      "config": {"port": i} if i % 50 else {}}} for i in range(1000)]
    expected = [(i, position, outcome) for i, obj in enumerate(objs)
                for position, outcome in engine.failures(rules, obj, None)]
    assert engine.failures_many(rules, objs) == expected
    errs = {(i, p) for i, p, o in expected if o.error}
    assert (0, 0) in errs  # no port
    assert (0, 4) in errs  # not a bool
    assert (7, 1) in {(i, p) for i, p, o in expected if o.error is None}
    assert engine.failures_many(rules, []) == []
    assert engine.failures_many((), objs) == []


@pytest.mark.parametrize("addresses", ["unique", "repeated", "missing", "not text"])
def test_chunks_name_the_objects_that_fail_by_address(addresses: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk's call returns the addresses of the objects that do not plainly pass;
    only those are evaluated rule by rule. Objects whose addresses do not tell them
    apart are evaluated one by one: the outcomes are the same either way."""
    from stackctl.policy.engine import Engine

    engine = Engine()
    rules = tuple(engine.add(expression) for expression in (
        "object.spec.config.port > 0",  # errs where there is no port (1 in 97)
        "object.metadata.name != 'c-7'",
        "object.spec.flavor != 'local' || object.metadata.name.endsWith('0')",
    ))

    def address(i: int) -> dict[str, Any]:
        if addresses == "missing":
            return {}
        if addresses == "not text":
            return {"address": [i]}
        return {"address": f"p/c/c-{i % 10 if addresses == 'repeated' else i}"}

    objs = [{"kind": "Component", "metadata": {"name": f"c-{i}"}, **address(i),
             "spec": {"flavor": "local" if i % 13 == 0 else "s3",
                      "config": {"port": i} if i % 97 else {}}} for i in range(1000)]
    expected = [(i, position, outcome) for i, obj in enumerate(objs)
                for position, outcome in engine.failures(rules, obj, None)]
    assert {o.error is None for _, _, o in expected} == {True, False}
    one_by_one: list[dict[str, Any]] = []
    failures = engine.failures

    def counting(rules: tuple[int, ...], obj: dict[str, Any],
                 old: dict[str, Any] | None) -> Any:
        one_by_one.append(obj)
        return failures(rules, obj, old)

    monkeypatch.setattr(engine, "failures", counting)
    assert engine.failures_many(rules, objs) == expected
    failing = len({i for i, _, _ in expected})  # 81 of 1,000
    if addresses == "unique":  # those, and the neighbours of an error down to 4 objects
        assert len(one_by_one) < 2 * failing
    else:
        assert len(one_by_one) > 500  # every chunk that has a failing object


def test_a_rule_over_the_iteration_budget_is_an_error_of_that_rule(tmp_path: Path) -> None:
    """cel-cpp stops a call after so many comprehension steps: that rule's error on
    each resource (not a crash), the other rules still judged; chunks shrink to fit."""
    big = "[" + ", ".join(str(i) for i in range(120)) + "]"
    (tmp_path / "m.yaml").write_text(_many_components(20))
    (tmp_path / "policy.yaml").write_text(f"""\
apiVersion: stackctl/v1
kind: Policy
metadata: {{name: heavy}}
spec:
  rules:
    - expression: "{big}.all(a, {big}.all(b, object.metadata.name != ''))"
      message: too heavy
      match: {{types: [orchestrator]}}
    - expression: object.metadata.name != 'o-5'
      message: not o-5
      match: {{types: [orchestrator]}}
    - expression: "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].all(a, {big}.all(b, true))"
      message: heavy but fits one resource
      match: {{types: [artifact_store]}}
""")
    found = _lines(tmp_path)
    heavy = [line for line in found if "too heavy" in line]
    assert len(heavy) == 10  # every orchestrator
    assert all(line.endswith("(the rule could not be evaluated: INTERNAL: Iteration budget "
                             "exceeded [INTERNAL])") for line in heavy)
    assert [line.split()[-2:] for line in found if "too heavy" not in line] == [
        ["not", "o-5"]]


def test_plan_policies_keep_file_order_with_and_without_old_objects(tmp_path: Path) -> None:
    """In `plan` a resource with a live object is judged on its own (``oldObject``), the
    others in chunks; the diagnostics still come resource by resource, in file order."""
    from stackctl.policy.check import check_policies

    (tmp_path / "m.yaml").write_text(_many_components(300))
    (tmp_path / "policy.yaml").write_text(_MANY_POLICIES + """\
---
apiVersion: stackctl/v1
kind: Policy
metadata: {name: p3}
spec:
  rules:
    - expression: oldObject == null || oldObject.spec.flavor == object.spec.flavor
      message: rule D
      match: {kinds: [Component]}
""")
    compiled = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path)
    address = {a.rsplit("/", 1)[-1]: a for a in compiled.desired.sources}
    old = {address["o-3"]: {"spec": {"flavor": "kubeflow"}},
           address["a-290"]: {"spec": {"flavor": "local"}},
           address["o-9"]: {"spec": {"flavor": "airflow"}}}
    found = check_policies(compiled.desired, compiled.project.default_profile, old)
    assert [(d.location.line, d.rule, d.message.split(" (")[0]) for d in found] == [
        (d.location.line, d.rule, d.message.split(" (")[0]) for d in sorted(
            found, key=lambda d: d.location.line)]
    assert [(d.message.split(" (")[0], d.rule) for d in found] == [
        ("rule B", "policy/p1"), ("rule D", "policy/p3"),  # o-3
        ("rule D", "policy/p3"),  # o-9
        ("rule B", "policy/p1"), ("rule C", "policy/p2"),  # a-20
        ("rule A", "policy/p1"), ("rule B", "policy/p1"),  # o-151
        ("rule B", "policy/p1")]  # a-290


def test_a_rule_too_deep_to_combine_is_still_judged() -> None:
    """cel-cpp parses at most 32 levels of nesting: a rule just within that compiles,
    but not wrapped in the combined programs; its resources are judged rule by rule."""
    from stackctl.policy.engine import Engine

    engine = Engine()
    deep = "[" * 26 + "object.metadata.name != 'a'" + "]" * 26 + " == " + "[" * 26 + "true" + \
        "]" * 26
    rules = (engine.add(deep), engine.add("object.metadata.name != 'b'"))
    objs = [{"metadata": {"name": name}} for name in ("a", "b", "c", "a", "b", "c") * 3]
    failed = [(i, position) for i, position, _ in engine.failures_many(rules, objs)]
    assert failed == [(i, i % 3) for i in range(len(objs)) if i % 3 < 2]
    assert [p for p, _ in engine.failures(rules, objs[0], None)] == [0]


def test_chunks_shrink_when_a_rule_errs_on_most_resources() -> None:
    """A rule erring everywhere (a common slip: no ``has()`` guard) fails every chunk's
    call; after the first chunks fail, the next are smaller and the resources go one by
    one, rather than every chunk being split in halves again."""
    from stackctl.policy.engine import Engine

    class Counting:
        def __init__(self, env: Any) -> None:
            self.env, self.calls = env, 0

        def compile(self, source: str) -> Any:
            program = self.env.compile(source)
            outer = self

            class Program:
                def eval(self, **kwargs: Any) -> Any:
                    outer.calls += 1
                    return program.eval(**kwargs)
            return Program()

    engine = Engine()
    counting = engine._chunk_env = Counting(engine._chunk_env)
    rules = (engine.add("object.spec.config.port > 0"), engine.add("true"))
    objs = [{"spec": {"config": {}}} for _ in range(2000)]
    found = engine.failures_many(rules, objs)
    assert [(i, p) for i, p, _ in found] == [(i, 0) for i in range(2000)]
    assert all(o.error for _, _, o in found)
    assert counting.calls < 200  # halving every chunk of 128 anew: 16 x 63 calls
