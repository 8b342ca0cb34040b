"""Fast start: help and version import none of the heavy libraries.

Each command runs in a fresh interpreter, through the same ``main`` the
``stackctl`` script calls, and reports which heavy modules got imported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PYTHON, run_process

HEAVY = ("sqlalchemy", "alembic", "deepdiff", "jsonschema", "jinja2", "pydantic", "rich")

PROBE = """
import json, sys
from stackctl.cli.main import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY)))
print("\\nIMPORTED " + json.dumps(heavy) + " EXIT " + str(code))
"""


@pytest.mark.parametrize("argv", [
    ["--help"], ["version"], ["--version"], ["stack", "--help"], ["profile", "--help"],
    ["artifact-store", "--help"], ["stack", "register", "--help"],
], ids=" ".join)
def test_help_and_version_import_nothing_heavy(argv: list[str], workdir: Path) -> None:
    probe = PROBE.replace("HEAVY", repr(json.dumps(HEAVY)))
    result = run_process([PYTHON, "-c", probe, *argv], workdir)
    assert result.rc == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == "IMPORTED [] EXIT 0", result.stdout


def test_the_probe_sees_heavy_imports(workdir: Path) -> None:
    """The check can fail: listing stacks draws a rich table (and, its options being
    plain text, builds no pydantic adapter: see stackctl.cli.app.fast_params)."""
    probe = PROBE.replace("HEAVY", repr(json.dumps(HEAVY)))
    result = run_process([PYTHON, "-c", probe, "stack", "list"], workdir)
    assert result.stdout.strip().splitlines()[-1] == 'IMPORTED ["rich"] EXIT 0'


@pytest.mark.parametrize("argv", [["--help"], ["version"], ["stack", "list"],
                                  ["plan", "--format", "json", "missing"]], ids=" ".join)
def test_click_itself_is_never_imported(argv: list[str], workdir: Path) -> None:
    """stackctl depends on Typer (which carries its own Click), not on the click package."""
    probe = PROBE.replace("HEAVY", repr(json.dumps(["click"])))
    result = run_process([PYTHON, "-c", probe, *argv], workdir)
    assert result.stdout.strip().splitlines()[-1].startswith("IMPORTED [] EXIT "), result.stdout


@pytest.mark.parametrize("count", ["3", "0"])
def test_a_plan_with_a_count_option_builds_no_pydantic_adapter(count: str,
                                                                workdir: Path) -> None:
    """``--max-deletes N`` (an int) is converted without pydantic (fast_params), while a
    bad count still gets Typer's own message (test_delete_cap)."""
    (workdir / "m.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: team}\n"
        "spec: {store: {type: local}}\n")
    probe = PROBE.replace("HEAVY", repr(json.dumps(["pydantic"])))
    result = run_process([PYTHON, "-c", probe, "plan", "m.yaml", "--max-deletes", count],
                         workdir)
    assert result.stdout.strip().splitlines()[-1] == "IMPORTED [] EXIT 0", result.stderr


@pytest.mark.parametrize("var", [[], ["--var", "bucket=ml-dev"]], ids=["no var", "a var"])
def test_validate_imports_the_template_renderer_only_for_a_var(var: list[str],
                                                               workdir: Path) -> None:
    """Parsing ``--var`` needs the renderer's module; a validate without one (and
    without templates) does not import it (5-9 ms of import on every run)."""
    (workdir / "m.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: team}\n"
        "spec: {store: {type: local}}\n")
    module = "stackctl.compiler.render"
    probe = PROBE.replace("HEAVY", repr(json.dumps([module]))).replace(
        '{m.split(".")[0] for m in sys.modules}', "set(sys.modules)")
    result = run_process([PYTHON, "-c", probe, "validate", "m.yaml", *var], workdir)
    expected = json.dumps([module] if var else [])
    assert result.stdout.strip().splitlines()[-1] == f"IMPORTED {expected} EXIT 0", (
        result.stdout + result.stderr)


def test_a_plan_reads_without_importing_socket(workdir: Path) -> None:
    """Only a writer records its host in the store's lock (stores.lock); a plan only reads."""
    (workdir / "m.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: team}\n"
        "spec: {store: {type: local}}\n")
    probe = PROBE.replace("HEAVY", repr(json.dumps(["socket"])))
    result = run_process([PYTHON, "-c", probe, "plan", "m.yaml"], workdir)
    assert result.stdout.strip().splitlines()[-1] == "IMPORTED [] EXIT 0", result.stderr


def test_a_plan_finds_its_data_without_importlib_resources(workdir: Path) -> None:
    """Schemas and flavors are read from the package's folder (stackctl.resources);
    importlib.resources would import tempfile and zipfile on every plan."""
    (workdir / "m.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: team}\n"
        "spec: {store: {type: local}}\n")
    modules = ["zipfile", "tempfile", "importlib.resources"]
    probe = PROBE.replace("HEAVY", repr(json.dumps(modules))).replace(
        '{m.split(".")[0] for m in sys.modules}', "set(sys.modules)")
    result = run_process([PYTHON, "-c", probe, "plan", "m.yaml"], workdir)
    assert result.stdout.strip().splitlines()[-1] == "IMPORTED [] EXIT 0", (
        result.stdout + result.stderr)
