"""GitOps verbs: validate, plan, diff, apply, drift, export, schema."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from stackctl.cli import complete
from stackctl.cli.app import CommandFailed, confirm, examples, new_app, one_of
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
Paths = Annotated[list[str] | None, typer.Argument(
    metavar="PATHS", show_default=False,
    help="Manifest files or directories (default: stackctl.yaml's `manifests`, else here).")]
Env = Annotated[str | None, typer.Option(
    "-e", "--env", metavar="ENV", autocompletion=complete.environments,
    help="Environment from stackctl.yaml (its vars and profile).")]
Variables = Annotated[list[str] | None, typer.Option(
    "--var", metavar="K=V", help="Set a template variable (repeatable).")]
VarFiles = Annotated[list[str] | None, typer.Option(
    "--var-file", metavar="FILE", help="YAML file of variables (repeatable).")]
Prune = Annotated[bool, typer.Option(
    "--prune", help="Delete managed resources gone from the manifests.")]




def _inputs(paths: list[str] | None, env: str | None, variables: list[str] | None,
            var_files: list[str] | None) -> Any:
    from stackctl.plan import pipeline

    return pipeline.inputs(paths or (), env, variables or (), var_files or ())


@validate_app.command(epilog=examples(
    "stackctl validate", "stackctl validate manifests/ --format github",
    "stackctl validate --format sarif > stackctl.sarif"))
def validate(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None,
    fmt: Annotated[Literal["text", "json", "github", "sarif"], typer.Option(
        "--format", parser=one_of("text", "json", "github", "sarif"), show_default=True,
        help="text: file:line:col lines for people; json: for scripts; github: workflow "
             "annotations; sarif: for code scanning.")] = "text",
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
        from stackctl.logs import color_enabled

        color = color_enabled(sys.stdout)
        typer.echo(views.text(problems, cwd, color=color), color=color)
    if fmt == "text":
        log.info("%s", views.summary(compiled))
    return 1 if problems else 0


@plan_app.command(epilog=examples(
    "stackctl plan", "stackctl plan -e prod --var region=eu-west-1",
    "stackctl plan -o plan.json   (then: stackctl apply plan.json)",
    "stackctl plan --format markdown > comment.md"))
def plan(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None, prune: Prune = False,
    fmt: Annotated[Literal["text", "json", "markdown"], typer.Option(
        "--format", parser=one_of("text", "json", "markdown"), show_default=True,
        help="text: for people; json: the plan for scripts (format_version 2); markdown: a "
             "pull-request comment.")] = "text",
    out: Annotated[str | None, typer.Option(
        "-o", "--out", metavar="FILE",
        help="Save the plan to this file (for `stackctl apply PLANFILE`).")] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 2 when there are changes.")] = False,
) -> int:
    """Show what applying the manifests would change."""
    from stackctl.cli.progress import progress
    from stackctl.plan import pipeline

    with progress() as step:
        planned = pipeline.make_plan(_inputs(paths, env, variables, var_files), prune=prune,
                                     step=step)
    result = planned.plan
    if out:
        pipeline.save_plan(result, Path(out))
        log.info("Saved the plan to %s; apply it with `stackctl apply %s`.", out, out)
    _show(result, fmt)
    return 2 if detailed_exitcode and result.has_changes else 0


def _show(result: Any, fmt: str, *, diff_only: bool = False) -> None:
    from stackctl.logs import color_enabled
    from stackctl.report.plans import render

    color = color_enabled(sys.stdout)
    typer.echo(render(result, fmt, color=color, diff_only=diff_only), nl=False, color=color)


@diff_app.command(epilog=examples("stackctl diff", "stackctl diff -e prod manifests/"))
def diff(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Count managed resources gone from the manifests.")] = False,
) -> int:
    """Show differences between manifests and live (exit 0 none, 1 differences, 2 error)."""
    from stackctl.plan import pipeline

    try:
        result = pipeline.make_plan(_inputs(paths, env, variables, var_files), prune=prune).plan
    except StackctlError as exc:  # 1 means "differences" here
        raise CommandFailed(exc, exit_code=2) from exc
    if result.has_changes or result.drift:
        _show(result, "text", diff_only=True)
        return 1
    log.info("No differences.")
    return 0


@apply_app.command(epilog=examples(
    "stackctl apply", "stackctl apply -e prod --auto-approve",
    "stackctl apply plan.json --var token=…   (a reviewed plan file)"))
def apply(
    targets: Annotated[list[str] | None, typer.Argument(
        metavar="PATHS|PLANFILE", show_default=False,
        help="Manifest files or directories, or one plan file saved by `plan -o`.")] = None,
    env: Env = None,
    variables: Variables = None,
    var_files: VarFiles = None,
    prune: Prune = False,
    auto_approve: Annotated[bool, typer.Option(
        "-y", "--auto-approve", help="Apply without asking (CI).")] = False,
) -> int:
    """Make the live configuration match the manifests, or apply a saved PLANFILE."""
    from stackctl.cli.progress import progress
    from stackctl.plan import pipeline

    with progress() as step:
        prepared = pipeline.prepare_apply(targets or (), env, variables or (), var_files or (),
                                          prune, step=step)
    if not prepared.saved:  # a plan file was reviewed already
        _show(prepared.plan, "text")
        if not prepared.needs_work:
            return 0
        if not auto_approve:
            if not sys.stdin.isatty():
                raise UsageError("Refusing to apply without confirmation: no terminal to ask on.",
                                 hint="Pass --auto-approve (CI), or apply a reviewed plan file.")
            confirm("Apply these changes?")
    with progress() as step:
        result = pipeline.execute(prepared, step)
    log.info(result.summary)
    return 0


@drift_app.command(epilog=examples("stackctl drift", "stackctl drift --format json"))
def drift(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None,
    fmt: Annotated[Literal["text", "json"], typer.Option(
        "--format", parser=one_of("text", "json"), show_default=True,
        help="text: one `! ADDRESS: DETAIL` line each; json: for scripts.")] = "text",
) -> int:
    """Report live changes made outside stackctl (exit 0 none, 2 drift, 1 error)."""
    from stackctl.plan import pipeline
    from stackctl.report.drift import render

    result = pipeline.make_plan(_inputs(paths, env, variables, var_files)).plan
    typer.echo(render(result, fmt), nl=False)
    if fmt == "text" and not result.drift:
        log.info("No drift: the live configuration is as stackctl last applied it.")
    return 2 if result.drift else 0


@export_app.command(epilog=examples(
    "stackctl export -o manifests/", "stackctl export --all -o manifests/ --force",
    "stackctl export --profile team -o -"))
def export(
    profiles: Annotated[list[str] | None, typer.Option(
        "--profile", metavar="NAME", autocompletion=complete.profiles,
        help="Profile to export (repeatable; default: the active one).")] = None,
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


@schema_app.command("export", epilog=examples("stackctl schema export .stackctl-schemas"))
def schema_export(
    directory: Annotated[str, typer.Argument(
        metavar="DIRECTORY", show_default=False, help="Where to write them (created).")],
) -> None:
    """Write every manifest and flavor schema under DIRECTORY."""
    import shutil

    from stackctl.resources import data_dir

    target = Path(directory)
    shutil.copytree(data_dir("schemas"), target, dirs_exist_ok=True)
    log.info("Wrote the schemas to %s", target)


@schema_app.command("show", epilog=examples("stackctl schema show Component"))
def schema_show(kind: Annotated[str, typer.Argument(
        metavar="KIND", show_default=False,
        help="Component, Stack, Profile, Repository, GlobalConfig, Flavor or project.")],
) -> None:
    """Print the JSON Schema of a manifest KIND (Component, Stack, …, project)."""
    from stackctl.compiler.schemas import KINDS, manifest_schema

    names = {k.lower(): k for k in (*KINDS, "project")}
    if kind.lower() not in names:
        raise UsageError(f"Unknown kind '{kind}'.", hint=f"Kinds: {', '.join(names.values())}.")
    typer.echo(json.dumps(manifest_schema(kind.lower()), indent=2))
