"""The friendly details of the CLI: help pages, wording, -q, -C, colour, completion.

Help pages are read from the command tree itself (every command, lazily loaded as
`stackctl` would); behaviour runs the installed `stackctl` in a subprocess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from helpers import snapshot

from stackctl.cli.main import app
from stackctl.logs import color_enabled

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _commands() -> Iterator[tuple[str, Any, Any]]:
    """(path, command, its context) for every command and group under the root."""
    root = typer.main.get_command(app)
    stack: list[tuple[str, Any, Any]] = [("stackctl", root, typer.Context(root))]
    while stack:
        path, command, ctx = stack.pop()
        yield path, command, ctx
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                stack.append((f"{path} {name}", sub, typer.Context(sub, info_name=name,
                                                                    parent=ctx)))


def _leaves() -> list[tuple[str, Any, Any]]:
    return [c for c in _commands() if not hasattr(c[1], "list_commands")]


def test_the_tree_is_walked() -> None:
    paths = {p for p, _, _ in _leaves()}
    assert {"stackctl plan", "stackctl stack register",
            "stackctl artifact-store flavor list", "stackctl schema show"} <= paths
    assert len(paths) > 80  # 11 component groups of 7 commands, and the rest


LEAVES = {path: command for path, command, _ in _leaves()}


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_every_command_has_an_example_and_every_parameter_a_description(path: str) -> None:
    command = LEAVES[path]
    assert command.help, path
    assert "Examples:" in (command.epilog or ""), path
    examples = command.epilog.split("Examples:", 1)[1].strip().splitlines()
    assert examples, path
    assert all(line.strip().startswith("stackctl ") for line in examples), examples
    for param in command.params:
        assert getattr(param, "help", None), f"{path}: {param.name} has no description"


def test_format_values_are_explained() -> None:
    formats = {p: param.help for p, command, _ in _leaves() for param in command.params
               if param.name == "fmt"}
    assert formats
    for path, text in formats.items():
        described = re.findall(r"(\w+):", text) if ":" in text else []
        assert described or "table" in text, (path, text)
    assert formats["stackctl plan"].startswith("text: for people; json:")


def test_wording(run) -> None:
    top = run("--help").stdout
    assert "container registries" in top
    assert "registrys" not in top
    assert "Register an artifact store NAME" in run("artifact-store", "register", "--help").stdout
    assert "Register an orchestrator NAME" in run("orchestrator", "register", "--help").stdout
    assert "Register a metadata store NAME" in run("metadata-store", "register", "--help").stdout
    assert "List all registered container registries" in run(
        "container-registry", "list", "--help").stdout


# -- -q/--quiet and -C/--chdir -------------------------------------------------------------


def test_quiet_keeps_data_and_drops_messages(run) -> None:
    loud = run("stack", "list", "--format", "json")
    quiet = run("-q", "stack", "list", "--format", "json")
    assert (loud.rc, quiet.rc) == (0, 0)
    assert quiet.stdout == loud.stdout
    assert "Running with active profile" in loud.stderr
    assert "Running with active profile" not in quiet.stderr
    # warnings stay (no repository here)
    assert "Unable to find stackctl repository" in quiet.stderr


def test_quiet_keeps_errors(run) -> None:
    result = run("-q", "stack", "describe", "nope")
    assert result.rc == 1
    assert result.stderr.endswith("Error: Unable to find stack with name 'nope'.\n"
                                  "  hint: Available names: default.\n")


def test_chdir_runs_as_if_started_there(run, workdir: Path) -> None:
    project = workdir / "infra"
    project.mkdir()
    (project / "c.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: box}\n"
        "spec: {type: orchestrator, flavor: local}\n")
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    here = run("validate", cwd=elsewhere)
    there = run("-C", "../infra", "validate", cwd=elsewhere)
    assert there.rc == 0, there.stderr
    assert "1 file, 1 document: valid." in there.stderr
    assert "1 file, 1 document" not in here.stderr


def test_chdir_to_a_missing_directory(run, config_dir: Path) -> None:
    assert run("profile", "list").rc == 0
    before = snapshot(config_dir)
    result = run("-C", "no-such-dir", "stack", "list")
    assert result.rc == 2
    assert result.stderr == (
        "Usage: stackctl [OPTIONS] COMMAND [ARGS]...\n"
        "Try 'stackctl --help' for help.\n\n"
        "Error: Invalid value for '-C' / '--chdir': cannot change to 'no-such-dir': "
        "No such file or directory.\n")
    assert result.stdout == ""
    assert snapshot(config_dir) == before


# -- colour ---------------------------------------------------------------------------------


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(("env", "tty", "expected"), [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"TERM": "dumb"}, True, False),
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "0"}, False, False),
])
def test_the_colour_rule(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool,
                         expected: bool) -> None:
    for var in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert color_enabled(_Stream(tty)) is expected  # type: ignore[arg-type]


BAD = "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: b}\nspec: {}\n"


@pytest.mark.parametrize(("env", "coloured"), [
    ({"FORCE_COLOR": "1"}, True), ({}, False), ({"FORCE_COLOR": "1", "TERM": "dumb"}, True),
])
def test_diagnostics_and_errors_in_colour(run, workdir: Path, env: dict[str, str],
                                          coloured: bool) -> None:
    (workdir / "bad.yaml").write_text(BAD)
    checked = run("validate", "bad.yaml", env=env)
    planned = run("plan", "bad.yaml", env=env)
    assert (checked.rc, planned.rc) == (1, 1)
    assert bool(ANSI.search(checked.stdout)) is coloured
    assert bool(ANSI.search(planned.stderr)) is coloured
    plain = ANSI.sub("", planned.stderr)
    assert "bad.yaml:4:7: error: spec: 'type' is required [missing-field]" in plain
    assert "\nError: " in plain
    assert "\n  hint: Run `stackctl validate` to see every problem." in plain
    if coloured:
        assert "\x1b[31m\x1b[1merror\x1b[0m" in checked.stdout
        assert "\x1b[31m\x1b[1mError:\x1b[0m" in planned.stderr
        assert "\x1b[36m\x1b[1mhint:\x1b[0m" in planned.stderr


def test_no_colour_for_no_color(run, workdir: Path) -> None:
    (workdir / "bad.yaml").write_text(BAD)
    result = run("validate", "bad.yaml", env={"NO_COLOR": "1"})
    assert result.rc == 1
    assert not ANSI.search(result.stdout + result.stderr)


# -- shell completion -----------------------------------------------------------------------


def _complete(run, words: str, env: dict[str, str] | None = None) -> list[str]:
    result = run(env={"_STACKCTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
                      "COMP_CWORD": str(len(words.split(" ")) - 1), **(env or {})})
    assert result.rc == 0, result.stderr
    return result.stdout.split()


@pytest.fixture
def named(run) -> None:
    for args in (["profile", "create", "team"], ["profile", "create", "dev"],
                 ["artifact-store", "register", "s3_store", "--flavor=local", "--path=/tmp/x"],
                 ["stack", "register", "gpu", "-o", "default", "-m", "default", "-a",
                  "s3_store"]):
        assert run(*args).rc == 0


@pytest.mark.usefixtures("named")
def test_completion_of_live_addresses(run) -> None:
    assert _complete(run, "stackctl plan --target team/") == [
        "team/artifact_store/default", "team/metadata_store/default",
        "team/orchestrator/default", "team/stack/default"]
    assert "default/stack/gpu" in _complete(run, "stackctl apply --exclude default/s")
    assert _complete(run, "stackctl export default/artifact_store/s") == [
        "default/artifact_store/s3_store"]
    assert _complete(run, "stackctl export prof") == [
        "profile/default", "profile/dev", "profile/team"]


@pytest.mark.usefixtures("named")
def test_completion_of_names(run) -> None:
    assert _complete(run, "stackctl profile set ") == ["default", "dev", "team"]
    assert _complete(run, "stackctl profile describe t") == ["team"]
    assert _complete(run, "stackctl stack set ") == ["default", "gpu"]
    assert _complete(run, "stackctl artifact-store describe ") == ["default", "s3_store"]
    assert _complete(run, "stackctl orchestrator delete ") == ["default"]
    assert _complete(run, "stackctl stack register x -a s") == ["s3_store"]
    assert _complete(run, "stackctl stack copy gpu g2 --to ") == ["default", "dev", "team"]


def test_completion_of_environments(run, workdir: Path) -> None:
    (workdir / "stackctl.yaml").write_text("environments:\n  prod: {}\n  dev: {}\n")
    assert _complete(run, "stackctl plan -e ") == ["dev", "prod"]
    assert _complete(run, "stackctl apply --env p") == ["prod"]


def test_completion_without_any_state_offers_nothing_and_creates_nothing(
        run, config_dir: Path) -> None:
    assert _complete(run, "stackctl stack set ") == []
    assert not config_dir.exists() or snapshot(config_dir) == {}


def test_completion_scripts(run) -> None:
    for shell, marker in (("bash", "complete -o default -F"), ("zsh", "#compdef stackctl"),
                          ("fish", "complete --command stackctl")):
        result = run(env={"_STACKCTL_COMPLETE": f"source_{shell}"})
        assert result.rc == 0
        assert marker in result.stdout
