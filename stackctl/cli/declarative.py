"""GitOps verbs: validate, plan, diff, apply, drift, export, schema."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from stackctl.errors import UsageError

log = logging.getLogger("stackctl")


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _inputs_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--var-file", "var_files", multiple=True, type=click.Path(),
                           help="YAML file of variables (repeatable).")(command)
    command = click.option("--var", "variables", multiple=True, metavar="K=V",
                           help="Set a template variable (repeatable).")(command)
    command = click.option("-e", "--env", "env", help="Environment from stackctl.yaml.")(command)
    return click.argument("paths", nargs=-1, type=click.Path())(command)


def _inputs(paths: tuple[str, ...], env: str | None, variables: tuple[str, ...],
            var_files: tuple[str, ...]) -> Any:
    from stackctl.compiler.project import Inputs
    from stackctl.compiler.render import parse_var

    cwd = Path.cwd()
    return Inputs(paths=tuple(str((cwd / p).resolve()) for p in paths), env=env,
                  var_files=tuple(str((cwd / f).resolve()) for f in var_files),
                  variables=tuple(parse_var(v) for v in variables))


def _compile(inputs: Any, cwd: Path | None = None) -> Any:
    from stackctl.compiler.compile import compile_manifests
    from stackctl.compiler.diagnostics import CompileError

    compiled = compile_manifests(inputs, cwd)
    if not compiled.ok:
        from stackctl.report.diagnostics import text

        click.echo(text(compiled.diagnostics, Path.cwd()), err=True)
        raise CompileError(compiled.diagnostics)
    return compiled


def _inputs_dict(inputs: Any, cwd: Path) -> dict[str, Any]:
    """What a saved plan records of its inputs. ``--var`` values may be secrets, so
    only their names and salted fingerprints are kept; `apply PLANFILE` takes them
    again and checks them."""
    import secrets

    salt = secrets.token_hex(16)
    # cwd: with no path given the manifests (and stackctl.yaml) are found from it
    return {"paths": list(inputs.paths), "env": inputs.env, "var_files": list(inputs.var_files),
            "variables": [{"name": k, "print": _var_print(salt, v)} for k, v in inputs.variables],
            "variables_salt": salt, "cwd": str(cwd)}


def _var_print(salt: str, value: str) -> str:
    from stackctl.fingerprint import fingerprint

    return fingerprint({"salt": salt, "value": value})


def _saved_variables(inp: Mapping[str, Any], given: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The plan's ``--var`` values, given again at apply time and checked."""
    from stackctl.compiler.render import parse_var
    from stackctl.errors import StaleStateError

    values = dict(parse_var(v) for v in given)
    recorded = {v["name"]: v["print"] for v in inp.get("variables", [])}
    missing = sorted(recorded.keys() - values.keys())
    extra = sorted(values.keys() - recorded.keys())
    if missing or extra:
        raise UsageError(
            "A saved plan needs exactly the --var variables it was made with."
            + (f" Missing: {', '.join(missing)}." if missing else "")
            + (f" Not in the plan: {', '.join(extra)}." if extra else ""),
            hint="The plan file keeps only their fingerprints; pass each again with --var.")
    differ = sorted(k for k, v in values.items()
                    if _var_print(str(inp.get("variables_salt", "")), v) != recorded[k])
    if differ:
        raise StaleStateError(f"--var values differ from the plan's: {', '.join(differ)}.",
                              hint="Run `stackctl plan` again with the new values.")
    return tuple(sorted(values.items()))


def make_plan(inputs: Any, prune: bool, cwd: Path | None = None,
              plan_id: str | None = None) -> tuple[Any, Any]:
    """Compile, read live, compute. ``plan_id`` reuses a saved plan's id (its salt),
    so desired fingerprints can be compared with the saved plan's."""
    from stackctl.plan.compute import compute_plan
    from stackctl.plan.live import read_live
    from stackctl.workspace import Workspace

    cwd = cwd or Path.cwd()
    # Building the desired and live states allocates millions of small objects and
    # frees almost none; the cyclic GC would rescan them again and again for nothing.
    gc.disable()
    try:
        compiled = _compile(inputs, cwd)
        ws = Workspace()
        if ws.globals.exists():
            ws.ensure_initialized()
        live = read_live(ws, compiled.desired.profiles, compiled.desired.repositories)
        plan = compute_plan(compiled.desired, live, inputs=_inputs_dict(inputs, cwd),
                            prune=prune, plan_id=plan_id)
    finally:
        gc.enable()
    return plan, compiled


@click.command()
@_inputs_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text")
@click.option("--allow-empty", is_flag=True, help="Finding no manifest is not an error.")
@click.option("--follow-symlinks-outside", "follow_outside", is_flag=True,
              help="Read symlinks that resolve outside the project (refused by default).")
def validate(paths: tuple[str, ...], env: str | None, variables: tuple[str, ...],
             var_files: tuple[str, ...], fmt: str, allow_empty: bool,
             follow_outside: bool) -> int:
    """Check manifests offline and report every problem (exit 0 valid, 1 invalid)."""
    from stackctl.compiler.compile import compile_manifests
    from stackctl.report import diagnostics as views

    compiled = compile_manifests(_inputs(paths, env, variables, var_files), offline=True,
                                 every_environment=True, allow_empty=allow_empty,
                                 follow_outside=follow_outside)
    problems = compiled.diagnostics
    cwd = Path.cwd()
    if fmt == "json":
        click.echo(views.as_json(problems, len(compiled.files), compiled.documents, cwd))
    elif fmt == "sarif":
        from stackctl.report.sarif import sarif

        click.echo(sarif(problems, cwd))
    elif fmt == "github":
        if problems:
            click.echo(views.github(problems, cwd))
    elif problems:
        click.echo(views.text(problems, cwd))
    if fmt == "text":
        log.info("%s", views.summary(compiled))
    return 1 if problems else 0


@click.command()
@_inputs_options
@click.option("--prune", is_flag=True, help="Delete managed resources gone from the manifests.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False),
              help="Save the plan to this file (for `stackctl apply PLANFILE`).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
def plan(paths: tuple[str, ...], env: str | None, variables: tuple[str, ...],
         var_files: tuple[str, ...], prune: bool, fmt: str, out: str | None,
         detailed_exitcode: bool) -> int:
    """Show what applying the manifests would change."""
    result, _ = make_plan(_inputs(paths, env, variables, var_files), prune)
    if out:
        from stackctl.plan import saved
        from stackctl.stores.files import atomic_write

        atomic_write(Path(out), saved.dumps(result), private=True)
        log.info("Saved the plan to %s; apply it with `stackctl apply %s`.", out, out)
    _show(result, fmt)
    return 2 if detailed_exitcode and result.has_changes else 0


def _show(result: Any, fmt: str, *, diff_only: bool = False) -> None:
    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "markdown":
        from stackctl.report.plan_markdown import render

        click.echo(render(result), nl=False)
    else:
        from stackctl.report.plan_text import render as render_text

        click.echo(render_text(result, color=_color(), diff_only=diff_only))


@click.command()
@_inputs_options
@click.option("--prune", is_flag=True, help="Count managed resources gone from the manifests.")
def diff(paths: tuple[str, ...], env: str | None, variables: tuple[str, ...],
         var_files: tuple[str, ...], prune: bool) -> int:
    """Show differences between manifests and live (exit 0 none, 1 differences, 2 error)."""
    from stackctl.cli import main

    main.error_exit_code = 2
    result, _ = make_plan(_inputs(paths, env, variables, var_files), prune)
    if result.has_changes or result.drift:
        _show(result, "text", diff_only=True)
        return 1
    log.info("No differences.")
    return 0


@click.command()
@click.argument("targets", nargs=-1, type=click.Path())
@click.option("-e", "--env", "env", help="Environment from stackctl.yaml.")
@click.option("--var", "variables", multiple=True, metavar="K=V")
@click.option("--var-file", "var_files", multiple=True, type=click.Path())
@click.option("--prune", is_flag=True, help="Delete managed resources gone from the manifests.")
@click.option("-y", "--auto-approve", is_flag=True, help="Apply without asking (CI).")
def apply(targets: tuple[str, ...], env: str | None, variables: tuple[str, ...],
          var_files: tuple[str, ...], prune: bool, auto_approve: bool) -> int:
    """Make the live configuration match the manifests, or apply a saved PLANFILE."""
    from stackctl.apply import apply_plan, check_fresh, check_not_applied, check_same_changes
    from stackctl.compiler.project import Inputs
    from stackctl.plan import saved as saved_plans
    from stackctl.plan.model import Plan
    from stackctl.workspace import Workspace

    planfile = saved_plans.plan_file_among(targets)
    saved = saved_plans.load(planfile) if planfile is not None else None
    if saved is not None:
        if env or var_files or prune:
            raise UsageError("A saved plan carries its own inputs; give only the plan file "
                             "(and its --var values).")
        inp = saved.inputs
        inputs = Inputs(paths=tuple(inp["paths"]), env=inp["env"],
                        var_files=tuple(inp["var_files"]),
                        variables=_saved_variables(inp, variables))
        check_not_applied(Workspace(), saved)
        fresh, compiled = make_plan(inputs, saved.prune,
                                    Path(inp["cwd"]) if inp.get("cwd") else None,
                                    plan_id=saved.id)
        check_fresh(saved, fresh)
        check_same_changes(saved, fresh)
        to_apply: Plan = fresh  # the very changes of the file, as computed now
    else:
        to_apply, compiled = make_plan(_inputs(targets, env, variables, var_files), prune)
        _show(to_apply, "text")
        if not to_apply.has_changes and not any(c.adopt for c in to_apply.changes):
            return 0
        if not auto_approve:
            if not sys.stdin.isatty():
                raise UsageError("Refusing to apply without confirmation: no terminal to ask on.",
                                 hint="Pass --auto-approve (CI), or apply a reviewed plan file.")
            click.confirm("Apply these changes?", abort=True, err=True)
    result = apply_plan(Workspace(), to_apply, compiled.desired)
    log.info(result.summary)
    return 0


@click.command()
@_inputs_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def drift(paths: tuple[str, ...], env: str | None, variables: tuple[str, ...],
          var_files: tuple[str, ...], fmt: str) -> int:
    """Report live changes made outside stackctl (exit 0 none, 2 drift, 1 error)."""
    result, _ = make_plan(_inputs(paths, env, variables, var_files), False)
    from stackctl.report.plan_text import drift_lines

    items = [{"address": d.address, "detail": d.detail,
              "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in d.fields]}
             for d in result.drift]
    if fmt == "json":
        click.echo(json.dumps({"format_version": 1, "drift": items}, indent=2, default=str))
    elif items:
        click.echo("\n".join(line for d in result.drift for line in drift_lines(d)))
    else:
        log.info("No drift: the live configuration is as stackctl last applied it.")
    return 2 if items else 0


@click.command()
@click.option("--profile", "profiles", multiple=True, help="Profile to export (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Export every profile and the global config.")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False, allow_dash=True),
              default=".", show_default=True,
              help="Directory to write manifests to; - writes them to stdout.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def export(profiles: tuple[str, ...], all_: bool, out: str, force: bool) -> None:
    """Write the live configuration as manifests (one file per profile)."""
    from stackctl.export import export as do_export
    from stackctl.workspace import Workspace

    if profiles and all_:
        raise UsageError("Give --profile or --all, not both.")
    ws = Workspace()
    chosen = None if all_ else (list(profiles) or [ws.active().profile])
    result = do_export(ws, None if out == "-" else Path(out), chosen, force=force)
    if result.text is not None:
        click.echo(result.text, nl=False)
    for path in result.files:
        log.info("Wrote %s", path)
    if result.secret_vars:
        log.info("Secret values were not written; set these variables before planning:\n  %s",
                 "\n  ".join(result.secret_vars))


@click.group()
def schema() -> None:
    """Export or show the manifest JSON Schemas."""


@schema.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
def schema_export(directory: str) -> None:
    """Write every manifest and flavor schema under DIRECTORY."""
    import shutil

    from stackctl.resources import data_dir

    target = Path(directory)
    shutil.copytree(data_dir("schemas"), target, dirs_exist_ok=True)
    log.info("Wrote the schemas to %s", target)


@schema.command("show")
@click.argument("kind")
def schema_show(kind: str) -> None:
    """Print the JSON Schema of a manifest KIND (Component, Stack, …, project)."""
    from stackctl.compiler.schemas import KINDS, manifest_schema

    names = {k.lower(): k for k in (*KINDS, "project")}
    if kind.lower() not in names:
        raise UsageError(f"Unknown kind '{kind}'.", hint=f"Kinds: {', '.join(names.values())}.")
    click.echo(json.dumps(manifest_schema(kind.lower()), indent=2))
