"""`stackctl validate` against a corpus of manifests: adding a case is adding a file.

``tests/cases/invalid/<name>.yaml`` (or ``.yaml.j2``, or a directory ``<name>/``)
holds ONE problem (``many-problems/`` holds several on purpose); beside it
``<name>.expected`` lists every diagnostic the case must produce, in output
order, one per line: ``<file relative to tests/cases/invalid>:<line>:<col> <rule>``.
``tests/cases/valid/`` holds sets that must validate cleanly.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from stackctl.compiler.compile import compile_manifests
from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.project import Inputs

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "cases"
INVALID = CASES / "invalid"
VALID = CASES / "valid"
STACKCTL = str(Path(sys.executable).with_name("stackctl"))
# Templates see this environment, never the machine's.
ENVIRON = {"HOME": "/nonexistent", "STACKCTL_CASE_SECRET": "s3cr3t-from-env-0451"}


def _case_name(path: Path) -> str:
    return path.name.removesuffix(".j2").removesuffix(".yaml").removesuffix(".yml")


INVALID_CASES = sorted(p for p in INVALID.iterdir() if p.suffix != ".expected")
VALID_CASES = sorted(VALID.iterdir())


def _line(diagnostic: Diagnostic, base: Path) -> str:
    loc = diagnostic.location
    return f"{os.path.relpath(loc.path, base)}:{loc.line}:{loc.column} {diagnostic.rule}"


def _expected(case: Path) -> list[str]:
    text = (INVALID / f"{_case_name(case)}.expected").read_text()
    return [line for line in text.splitlines() if line.strip()]


def _compile(path: Path, **inputs: object) -> list[Diagnostic]:
    """What `stackctl validate` checks: offline, every environment."""
    return compile_manifests(Inputs(paths=(str(path),), **inputs),  # type: ignore[arg-type]
                             cwd=path.parent, environ=ENVIRON, offline=True,
                             every_environment=True).diagnostics


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STACKCTL, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False, timeout=120)


# -- the corpus -------------------------------------------------------------------------


def test_corpus_is_big_enough_and_paired() -> None:
    assert len(INVALID_CASES) >= 45
    names = [_case_name(p) for p in INVALID_CASES]
    assert len(names) == len(set(names)), "two cases share a name"
    expected = {p.stem for p in INVALID.glob("*.expected")}
    assert expected == set(names), "every case needs exactly one .expected file"


@pytest.mark.parametrize("case", INVALID_CASES, ids=_case_name)
def test_invalid_case(case: Path) -> None:
    got = [_line(d, INVALID) for d in _compile(case)]
    assert got == _expected(case)


@pytest.mark.parametrize("case", VALID_CASES, ids=_case_name)
def test_valid_case(case: Path) -> None:
    assert [str(d) for d in _compile(case)] == []


def _emitted_rules() -> set[str]:
    """Every rule id the compiler can emit, read from its source (so a new rule needs a case)."""
    sources = [*(ROOT / "stackctl" / "compiler").glob("*.py"), ROOT / "stackctl" / "rules.py",
               ROOT / "stackctl" / "schema_errors.py"]
    rules: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and [getattr(t, "id", None) for t in node.targets] == ["rule"]):
                rules.add(str(node.value.value))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
                    "Diagnostic", "Problem", "SchemaProblem"):
                position = 0 if node.func.id == "Problem" else 1  # type: ignore[attr-defined]
                arg = node.args[position] if len(node.args) > position else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    rules.add(arg.value)
    # Not manifest problems: the compile error that wraps them all, and the rules for
    # deleting live resources (checked at plan time, see test_plan_apply).
    return rules - {"invalid-manifests", "component-in-use", "stack-active"}


# Rules a committed file cannot show: they are exercised by the tests named here.
RULES_TESTED_ELSEWHERE = {
    "unreadable": "test_unreadable_file",
    "manifest-path": "test_missing_path",
    "var-file": "test_var_file_with_two_documents",
    "unknown-environment": "test_unknown_environment",
    "symlink-outside": "test_symlink_outside",
}


def test_every_rule_has_a_case() -> None:
    emitted = _emitted_rules()
    assert len(emitted) > 30  # the regexes still find the rules
    covered = {line.split()[-1] for case in INVALID_CASES for line in _expected(case)}
    missing = emitted - covered - set(RULES_TESTED_ELSEWHERE)
    assert not missing, f"rules without an invalid case: {sorted(missing)}"
    assert covered <= emitted, f"cases expect rules nobody emits: {sorted(covered - emitted)}"
    for test in RULES_TESTED_ELSEWHERE.values():
        assert test in globals()


# -- problems no committed file can hold --------------------------------------------------


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").symlink_to(tmp_path / "gone.yaml")
    assert [_line(d, tmp_path) for d in _compile(tmp_path)] == ["broken.yaml:0:0 unreadable"]


def test_missing_path(tmp_path: Path) -> None:
    diagnostics = _compile(tmp_path / "nowhere")
    assert [_line(d, tmp_path) for d in diagnostics] == ["nowhere:0:0 manifest-path"]
    result = _cli("validate", "nowhere", cwd=tmp_path)
    assert result.returncode == 1
    assert "nowhere: error: manifest path" in result.stdout


def test_symlink_outside(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "outside.yaml").write_text((VALID / "single-component.yaml").read_text())
    (tmp_path / "project" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    assert [_line(d, tmp_path) for d in _compile(tmp_path / "project")] == [
        "project/link.yaml:0:0 symlink-outside"]


def test_var_file_with_two_documents(tmp_path: Path) -> None:
    (tmp_path / "vars.yaml").write_text("bucket: a\n---\nbucket: b\n")
    (tmp_path / "m.yaml").write_text((INVALID.parent / "valid" / "single-component.yaml")
                                     .read_text())
    diagnostics = compile_manifests(
        Inputs(paths=(str(tmp_path / "m.yaml"),), var_files=(str(tmp_path / "vars.yaml"),)),
        cwd=tmp_path, environ=ENVIRON).diagnostics
    assert [_line(d, tmp_path) for d in diagnostics] == ["vars.yaml:3:1 var-file"]


def test_unknown_environment() -> None:
    case = INVALID / "template-project-vars"
    diagnostics = compile_manifests(Inputs(paths=(str(case),), env="staging"),
                                    cwd=INVALID, environ=ENVIRON).diagnostics
    assert [_line(d, INVALID) for d in diagnostics] == [
        "template-project-vars/stackctl.yaml:4:3 unknown-environment"]
    assert diagnostics[0].hint == "Environments in the project file: dev, prod."


def test_environment_and_var_fix_the_template() -> None:
    case = INVALID / "template-project-vars"
    assert compile_manifests(Inputs(paths=(str(case),), env="dev"), cwd=INVALID,
                             environ=ENVIRON).diagnostics == []
    done = compile_manifests(Inputs(paths=(str(case),), variables=(("bucket", "x"),)),
                             cwd=INVALID, environ=ENVIRON)
    assert done.ok
    artifacts = next(iter(done.desired.profiles["default"].components.values()))
    assert artifacts.config["path"] == "s3://x/eu-west-1"


# -- through the real installed CLI ---------------------------------------------------------

CLI_CASES = ["duplicate-key", "template-undefined", "stack-wrong-type",
             "duplicate-resource-across-files", "project-file-invalid", "many-problems"]
_TEXT_LINE = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):?(?P<col>\d*): error: .* "
                        r"\[(?P<rule>[a-z-]+)\]$")


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_text_output(name: str) -> None:
    case = next(p for p in INVALID_CASES if _case_name(p) == name)
    result = _cli("validate", case.name, cwd=INVALID)
    assert result.returncode == 1, result.stderr
    got = []
    for line in result.stdout.splitlines():
        if line.startswith("    hint: "):
            continue
        match = _TEXT_LINE.match(line)
        assert match, f"not a diagnostic line: {line!r}"
        got.append(f"{match['file']}:{match['line']}:{match['col'] or 0} {match['rule']}")
    assert got == _expected(case)
    problems = len(got)
    assert result.stderr.strip().endswith(f"{problems} problem{'s' * (problems != 1)}.")


def test_cli_valid_exit_zero() -> None:
    result = _cli("validate", "team-profiles", "single-component.yaml", cwd=VALID)
    assert (result.returncode, result.stdout) == (0, "")
    assert "4 files, 9 documents: valid." in result.stderr


def test_all_problems_in_one_run_sorted_by_file_and_line() -> None:
    result = _cli("validate", "many-problems", "stack-wrong-type.yaml", "duplicate-key.yaml",
                  cwd=INVALID)
    assert result.returncode == 1
    found = [_TEXT_LINE.match(line) for line in result.stdout.splitlines()
             if not line.startswith("    hint: ")]
    keys = [(m["file"], int(m["line"]), int(m["col"] or 0)) for m in found if m]
    assert len(keys) == 9  # 7 in many-problems, one in each file
    assert keys == sorted(keys)
    assert {k[0] for k in keys} == {"many-problems/a-components.yaml",
                                     "many-problems/b-stacks.yaml", "stack-wrong-type.yaml",
                                     "duplicate-key.yaml"}


VALIDATE_JSON_SCHEMA = {
    "type": "object",
    "required": ["format_version", "valid", "files", "documents", "diagnostics"],
    "additionalProperties": False,
    "properties": {
        "format_version": {"const": 1},
        "valid": {"type": "boolean"},
        "files": {"type": "integer", "minimum": 0},
        "documents": {"type": "integer", "minimum": 0},
        "diagnostics": {"type": "array", "items": {
            "type": "object",
            "required": ["file", "line", "column", "severity", "rule", "message", "hint"],
            "additionalProperties": False,
            "properties": {
                "file": {"type": "string", "minLength": 1},
                "line": {"type": "integer", "minimum": 0},
                "column": {"type": "integer", "minimum": 0},
                "severity": {"enum": ["error", "warning"]},
                "rule": {"type": "string", "pattern": "^[a-z][a-z-]+$"},
                "message": {"type": "string", "minLength": 1},
                "hint": {"type": ["string", "null"]},
            },
        }},
    },
}


def test_json_format() -> None:
    result = _cli("validate", "--format", "json", "many-problems", cwd=INVALID)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    Draft202012Validator(VALIDATE_JSON_SCHEMA).validate(report)
    assert (report["valid"], report["files"], report["documents"]) == (False, 2, 5)
    got = [f"{d['file']}:{d['line']}:{d['column']} {d['rule']}" for d in report["diagnostics"]]
    assert got == _expected(INVALID / "many-problems")
    first = report["diagnostics"][0]
    assert first["message"] == "spec.config.path: '/not/s3' does not match '^s3://'"
    assert result.stderr == ""  # data on stdout only: nothing to strip before parsing

    ok = _cli("validate", "--format", "json", "single-component.yaml", cwd=VALID)
    assert ok.returncode == 0
    report = json.loads(ok.stdout)
    Draft202012Validator(VALIDATE_JSON_SCHEMA).validate(report)
    assert report == {"format_version": 1, "valid": True, "files": 1, "documents": 1,
                      "diagnostics": []}


def test_github_format() -> None:
    result = _cli("validate", "--format", "github", "duplicate-resource-across-files",
                  "stack-wrong-type.yaml", cwd=INVALID)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "::error file=duplicate-resource-across-files/b.yaml,line=4,col=18,"
        "title=duplicate-resource::default/artifact_store/artifacts is already declared "
        "at a.yaml:3",
        "::error file=stack-wrong-type.yaml,line=13,col=21,title=stack-wrong-type::Component "
        "'kfp' is an orchestrator, not a metadata store; it cannot fill the metadata_store "
        "slot of stack 'dev'.",
    ]
    result = _cli("validate", "--format", "github", "project-file-invalid", cwd=INVALID)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "::error file=project-file-invalid/stackctl.yaml,line=3,col=7,title=project-file"
        "::vars: expected object, found list",
        "::error file=project-file-invalid/stackctl.yaml,line=4,col=1,title=project-file"
        "::unknown field 'environment' in the project file",
    ]
    ok = _cli("validate", "--format", "github", "team-profiles", cwd=VALID)
    assert (ok.returncode, ok.stdout) == (0, "")


def test_github_format_escapes_newlines_and_commas(tmp_path: Path) -> None:
    (tmp_path / "a,b.yaml").write_text("apiVersion: stackctl/v1\nkind: Component\n"
                                       "metadata: {name: x}\nspec: {type: orchestrator, "
                                       "flavor: local}\n---\nkind: [\n")
    result = _cli("validate", "--format", "github", "a,b.yaml", cwd=tmp_path)
    line, = result.stdout.splitlines()
    assert line.startswith("::error file=a%2Cb.yaml,line=7,col=1,title=yaml-syntax::YAML syntax")


# -- secrets --------------------------------------------------------------------------------

SECRET_CASES = {
    "flavor-config-secret-wrong-type": "8675309123456789",
    "custom-flavor-secret": "s.hunter2-secret",
    "schema-store-url-not-a-url": "hunter2-secret",
    "schema-store-two-urls": "hunter2-secret",
}


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_secret_values_in_invalid_manifests_are_never_printed(fmt: str, tmp_path: Path) -> None:
    # Also a secret that came from the environment, in a document that is invalid.
    (tmp_path / "from-env.yaml.j2").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: s3}\nspec:\n"
        "  type: artifact_store\n  flavor: s3\n  config:\n    path: /not/s3\n"
        "    secret: {{ env.STACKCTL_CASE_SECRET }}\n    key: [{{ env.STACKCTL_CASE_SECRET }}]\n"
        "    bogus: 1\n")
    cases = [next(p for p in INVALID_CASES if _case_name(p) == n) for n in SECRET_CASES]
    result = _cli("validate", "--format", fmt, *map(str, cases), str(tmp_path),
                  cwd=INVALID, env=ENVIRON)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count("error") >= len(SECRET_CASES) + 3
    for secret in [*SECRET_CASES.values(), ENVIRON["STACKCTL_CASE_SECRET"]]:
        assert secret not in output
    # ...and neither does `plan`, which refuses invalid manifests with the same report
    plan = _cli("plan", *map(str, cases), str(tmp_path), cwd=INVALID, env=ENVIRON)
    assert plan.returncode == 1
    for secret in [*SECRET_CASES.values(), ENVIRON["STACKCTL_CASE_SECRET"]]:
        assert secret not in plan.stdout + plan.stderr
