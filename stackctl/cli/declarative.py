"""GitOps verbs: validate, plan, diff, apply, drift, export, schema."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from stackctl.cli.app import CommandFailed, confirm, new_app, one_of
from stackctl.errors import StackctlError, UsageError

log = logging.getLogger("stackctl")

validate_app = new_app()
plan_app = new_app()
diff_app = new_app()
apply_app = new_app()
drift_app = new_app()
export_app = new_app()
schema_app = new_app("Export or show the manifest JSON Schemas.")

# The inputs every manifest-reading command takes
Paths = Annotated[list[str] | None, typer.Argument(metavar="PATHS", show_default=False)]
Env = Annotated[str | None, typer.Option("-e", "--env", help="Environment from stackctl.yaml.")]
Variables = Annotated[list[str] | None, typer.Option(
    "--var", metavar="K=V", help="Set a template variable (repeatable).")]
VarFiles = Annotated[list[str] | None, typer.Option(
    "--var-file", metavar="FILE", help="YAML file of variables (repeatable).")]
Prune = Annotated[bool, typer.Option(
    "--prune", help="Delete managed resources gone from the manifests.")]


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _inputs(paths: list[str] | None, env: str | None, variables: list[str] | None,
            var_files: list[str] | None) -> Any:
    from stackctl.compiler.project import Inputs
    from stackctl.compiler.render import parse_var

    cwd = Path.cwd()
    return Inputs(paths=tuple(str((cwd / p).resolve()) for p in paths or ()), env=env,
                  var_files=tuple(str((cwd / f).resolve()) for f in var_files or ()),
                  variables=tuple(parse_var(v) for v in variables or ()))


def _compile(inputs: Any, cwd: Path | None = None) -> Any:
    from stackctl.compiler.compile import compile_manifests
    from stackctl.compiler.diagnostics import CompileError

    compiled = compile_manifests(inputs, cwd)
    if not compiled.ok:
        from stackctl.report.diagnostics import text

        typer.echo(text(compiled.diagnostics, Path.cwd()), err=True)
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


def _saved_variables(inp: Mapping[str, Any], given: list[str]) -> tuple[tuple[str, str], ...]:
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


@validate_app.command()
def validate(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None,
    fmt: Annotated[Literal["text", "json", "github", "sarif"], typer.Option(
        "--format", parser=one_of("text", "json", "github", "sarif"))] = "text",
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Finding no manifest is not an error.")] = False,
    follow_outside: Annotated[bool, typer.Option(
        "--follow-symlinks-outside",
        help="Read symlinks that resolve outside the project (refused by default).")] = False,
) -> int:
    """Check manifests offline and report every problem (exit 0 valid, 1 invalid)."""
    from stackctl.compiler.compile import compile_manifests
    from stackctl.report import diagnostics as views

    compiled = compile_manifests(_inputs(paths, env, variables, var_files), offline=True,
                                 every_environment=True, allow_empty=allow_empty,
                                 follow_outside=follow_outside)
    problems = compiled.diagnostics
    cwd = Path.cwd()
    if fmt == "json":
        typer.echo(views.as_json(problems, len(compiled.files), compiled.documents, cwd))
    elif fmt == "sarif":
        from stackctl.report.sarif import sarif

        typer.echo(sarif(problems, cwd))
    elif fmt == "github":
        if problems:
            typer.echo(views.github(problems, cwd))
    elif problems:
        typer.echo(views.text(problems, cwd))
    if fmt == "text":
        log.info("%s", views.summary(compiled))
    return 1 if problems else 0


@plan_app.command()
def plan(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None, prune: Prune = False,
    fmt: Annotated[Literal["text", "json", "markdown"], typer.Option(
        "--format", parser=one_of("text", "json", "markdown"))] = "text",
    out: Annotated[str | None, typer.Option(
        "-o", "--out", metavar="FILE",
        help="Save the plan to this file (for `stackctl apply PLANFILE`).")] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 2 when there are changes.")] = False,
) -> int:
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
        typer.echo(result.to_json())
    elif fmt == "markdown":
        from stackctl.report.plan_markdown import render

        typer.echo(render(result), nl=False)
    else:
        from stackctl.report.plan_text import render as render_text

        typer.echo(render_text(result, color=_color(), diff_only=diff_only))


@diff_app.command()
def diff(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Count managed resources gone from the manifests.")] = False,
) -> int:
    """Show differences between manifests and live (exit 0 none, 1 differences, 2 error)."""
    try:
        result, _ = make_plan(_inputs(paths, env, variables, var_files), prune)
    except StackctlError as exc:  # 1 means "differences" here
        raise CommandFailed(exc, exit_code=2) from exc
    if result.has_changes or result.drift:
        _show(result, "text", diff_only=True)
        return 1
    log.info("No differences.")
    return 0


@apply_app.command()
def apply(
    targets: Annotated[list[str] | None, typer.Argument(metavar="TARGETS", show_default=False)]
    = None,
    env: Env = None,
    variables: Variables = None,
    var_files: VarFiles = None,
    prune: Prune = False,
    auto_approve: Annotated[bool, typer.Option(
        "-y", "--auto-approve", help="Apply without asking (CI).")] = False,
) -> int:
    """Make the live configuration match the manifests, or apply a saved PLANFILE."""
    from stackctl.apply import apply_plan, check_fresh, check_not_applied, check_same_changes
    from stackctl.compiler.project import Inputs
    from stackctl.plan import saved as saved_plans
    from stackctl.plan.model import Plan
    from stackctl.workspace import Workspace

    targets = targets or []
    planfile = saved_plans.plan_file_among(tuple(targets))
    saved = saved_plans.load(planfile) if planfile is not None else None
    if saved is not None:
        if env or var_files or prune:
            raise UsageError("A saved plan carries its own inputs; give only the plan file "
                             "(and its --var values).")
        inp = saved.inputs
        inputs = Inputs(paths=tuple(inp["paths"]), env=inp["env"],
                        var_files=tuple(inp["var_files"]),
                        variables=_saved_variables(inp, variables or []))
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
            confirm("Apply these changes?")
    result = apply_plan(Workspace(), to_apply, compiled.desired)
    log.info(result.summary)
    return 0


@drift_app.command()
def drift(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None,
    fmt: Annotated[Literal["text", "json"], typer.Option(
        "--format", parser=one_of("text", "json"))] = "text",
) -> int:
    """Report live changes made outside stackctl (exit 0 none, 2 drift, 1 error)."""
    result, _ = make_plan(_inputs(paths, env, variables, var_files), False)
    from stackctl.report.plan_text import drift_lines

    items = [{"address": d.address, "detail": d.detail,
              "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in d.fields]}
             for d in result.drift]
    if fmt == "json":
        typer.echo(json.dumps({"format_version": 1, "drift": items}, indent=2, default=str))
    elif items:
        typer.echo("\n".join(line for d in result.drift for line in drift_lines(d)))
    else:
        log.info("No drift: the live configuration is as stackctl last applied it.")
    return 2 if items else 0


@export_app.command()
def export(
    profiles: Annotated[list[str] | None, typer.Option(
        "--profile", metavar="NAME", help="Profile to export (repeatable).")] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="Export every profile and the global config.")] = False,
    out: Annotated[str, typer.Option(
        "-o", "--out", metavar="DIR", show_default=True,
        help="Directory to write manifests to; - writes them to stdout.")] = ".",
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite files that already exist.")] = False,
) -> None:
    """Write the live configuration as manifests (one file per profile)."""
    from stackctl.export import export as do_export
    from stackctl.workspace import Workspace

    if profiles and all_:
        raise UsageError("Give --profile or --all, not both.")
    ws = Workspace()
    chosen = None if all_ else (list(profiles or ()) or [ws.active().profile])
    result = do_export(ws, None if out == "-" else Path(out), chosen, force=force)
    if result.text is not None:
        typer.echo(result.text, nl=False)
    for path in result.files:
        log.info("Wrote %s", path)
    if result.secret_vars:
        log.info("Secret values were not written; set these variables before planning:\n  %s",
                 "\n  ".join(result.secret_vars))


@schema_app.command("export")
def schema_export(
    directory: Annotated[str, typer.Argument(metavar="DIRECTORY", show_default=False)],
) -> None:
    """Write every manifest and flavor schema under DIRECTORY."""
    import shutil

    from stackctl.resources import data_dir

    target = Path(directory)
    shutil.copytree(data_dir("schemas"), target, dirs_exist_ok=True)
    log.info("Wrote the schemas to %s", target)


@schema_app.command("show")
def schema_show(kind: Annotated[str, typer.Argument(metavar="KIND", show_default=False)]) -> None:
    """Print the JSON Schema of a manifest KIND (Component, Stack, …, project)."""
    from stackctl.compiler.schemas import KINDS, manifest_schema

    names = {k.lower(): k for k in (*KINDS, "project")}
    if kind.lower() not in names:
        raise UsageError(f"Unknown kind '{kind}'.", hint=f"Kinds: {', '.join(names.values())}.")
    typer.echo(json.dumps(manifest_schema(kind.lower()), indent=2))
