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
show_app = new_app()
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
MaxDeletes = Annotated[int | None, typer.Option(
    "--max-deletes", min=0, metavar="N",
    help="Refuse a plan that deletes more objects (overrides maxDeletes).")]
Force = Annotated[bool, typer.Option(
    "--force", help="Revert changes made outside stackctl even when the drift mode is "
                    "refuse or warn.")]
Adopt = Annotated[list[str] | None, typer.Option(
    "--adopt", metavar="ADDRESS", autocompletion=complete.addresses,
    help="Keep this drifted object's live values and record them as applied (repeatable).")]
Targets = Annotated[list[str] | None, typer.Option(
    "--target", metavar="ADDRESS", autocompletion=complete.addresses,
    help="Only this resource and what it needs (repeatable, globs).")]
Excludes = Annotated[list[str] | None, typer.Option(
    "--exclude", metavar="ADDRESS", autocompletion=complete.addresses,
    help="Leave this resource out (repeatable, globs).")]




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
        if views.github(problems, cwd):
            typer.echo(views.github(problems, cwd))
    elif problems:
        from stackctl.logs import color_enabled

        color = color_enabled(sys.stdout)
        typer.echo(views.text(problems, cwd, color=color), color=color)
    if fmt == "text":
        log.info("%s", views.summary(compiled))
    return 0 if compiled.ok else 1  # policy warnings and audit notes do not fail


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
    max_deletes: MaxDeletes = None, target: Targets = None, exclude: Excludes = None,
    force: Force = False, adopt: Adopt = None,
) -> int:
    """Show what applying the manifests would change."""
    from stackctl.cli.progress import progress
    from stackctl.plan import pipeline
    from stackctl.plan.saved import is_plan_file

    for path in paths or []:
        if is_plan_file(Path(path)):
            raise UsageError(f"{path} is a saved plan, not a manifest.",
                             hint=f"Show it with `stackctl show {path}`; apply it with "
                                  f"`stackctl apply {path}`.")

    with progress() as step:
        planned = pipeline.make_plan(_inputs(paths, env, variables, var_files), prune=prune,
                                     step=step, max_deletes=max_deletes,
                                     targets=tuple(target or ()),
                                     excludes=tuple(exclude or ()), gate_drift=True,
                                     force=force, adopt=tuple(adopt or ()))
    _notices(planned.notices)
    result = planned.plan
    if out:
        pipeline.save_plan(result, Path(out))
        log.info("Saved the plan to %s; apply it with `stackctl apply %s`.", out, out)
    _show(result, fmt, plan_file=out)
    return 2 if detailed_exitcode and result.has_changes else 0


def _notices(diagnostics: Any) -> None:
    """Warnings that do not stop a plan (policy ``warn``, ...), on stderr."""
    from stackctl.report.diagnostics import text

    shown = text(diagnostics, Path.cwd())
    if shown:
        typer.echo(shown, err=True)


@show_app.command(epilog=examples("stackctl show plan.json",
                                  "stackctl show plan.json --format markdown > comment.md"))
def show(
    planfile: Annotated[str, typer.Argument(
        metavar="PLANFILE", show_default=False, help="A plan saved by `stackctl plan -o`.")],
    fmt: Annotated[Literal["text", "json", "markdown"], typer.Option(
        "--format", parser=one_of("text", "json", "markdown"), show_default=True,
        help="text: for people; json: the plan for scripts; markdown: a pull-request "
             "comment.")] = "text",
) -> None:
    """Render a saved plan as `plan` did, without reading manifests or live state."""
    from stackctl.plan import saved

    _show(saved.load(Path(planfile)), fmt, plan_file=planfile)


def _show(result: Any, fmt: str, *, diff_only: bool = False,
          plan_file: str | None = None, outcomes: Any = None) -> None:
    from stackctl.logs import color_enabled
    from stackctl.report.plans import render

    color = color_enabled(sys.stdout)
    typer.echo(render(result, fmt, color=color, diff_only=diff_only, plan_file=plan_file,
                      outcomes=outcomes), nl=False, color=color)


@diff_app.command(epilog=examples("stackctl diff", "stackctl diff -e prod manifests/"))
def diff(
    paths: Paths = None, env: Env = None, variables: Variables = None,
    var_files: VarFiles = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Count managed resources gone from the manifests.")] = False,
) -> int:
    """Show differences between manifests and live (exit 0 none, 1 differences, 2 error)."""
    from stackctl.plan import pipeline

    try:  # under the drift modes (warn keeps, refuse is marked), never refused itself
        planned = pipeline.make_plan(_inputs(paths, env, variables, var_files), prune=prune,
                                     report_drift=True)
    except StackctlError as exc:  # 1 means "differences" here
        raise CommandFailed(exc, exit_code=2) from exc
    result = planned.plan
    if result.has_changes or result.drift:
        _show(result, "text", diff_only=True, outcomes=planned.drift_outcomes)
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
    max_deletes: MaxDeletes = None, target: Targets = None, exclude: Excludes = None,
    force: Force = False, adopt: Adopt = None,
    fmt: Annotated[Literal["text", "json"], typer.Option(
        "--format", parser=one_of("text", "json"), show_default=True,
        help="text: the plan, then a line per change on stderr; json: what was done, per "
             "address (action, result), on stdout.")] = "text",
) -> int:
    """Make the live configuration match the manifests, or apply a saved PLANFILE."""
    from stackctl.cli.progress import progress
    from stackctl.plan import pipeline

    with progress() as step:
        prepared = pipeline.prepare_apply(targets or (), env, variables or (), var_files or (),
                                          prune, step=step, max_deletes=max_deletes,
                                          only=tuple(target or ()),
                                          excludes=tuple(exclude or ()), force=force,
                                          adopt=tuple(adopt or ()))
    _notices(prepared.planned.notices)
    if not prepared.saved:  # a plan file was reviewed already
        if fmt == "text":
            _show(prepared.plan, "text")
        if not prepared.needs_work:
            if fmt == "json":
                from stackctl.apply import nothing_applied

                typer.echo(json.dumps(nothing_applied(prepared.plan).to_dict(), indent=2))
            return 0
        if not auto_approve:
            if not sys.stdin.isatty():
                raise UsageError("Refusing to apply without confirmation: no terminal to ask on.",
                                 hint="Pass --auto-approve (CI), or apply a reviewed plan file.")
            confirm("Apply these changes?")
    with progress() as step:
        result = pipeline.execute(prepared, step)
    log.info(result.summary)
    if prepared.plan.kept and (prepared.saved or fmt == "json"):  # not shown above
        from stackctl.report.plan_text import kept_lines

        typer.echo("\n".join(kept_lines(prepared.plan)), err=True)
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2))
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

    planned = pipeline.make_plan(_inputs(paths, env, variables, var_files), report_drift=True)
    result = planned.plan
    typer.echo(render(result, fmt, planned.drift_outcomes), nl=False)
    if fmt == "text" and not result.drift:
        log.info("No drift: the live configuration is as stackctl last applied it.")
    return 2 if result.drift else 0


@export_app.command(epilog=examples(
    "stackctl export -o manifests/", "stackctl export --all -o manifests/ --force",
    "stackctl export --profile team -o -"))
def export(
    addresses: Annotated[list[str] | None, typer.Argument(
        metavar="[ADDRESS]...", show_default=False, autocompletion=complete.addresses,
        help="Live objects to export (e.g. team/stack/prod), instead of whole profiles.")] = None,
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
    """Write the live configuration as manifests (one file per profile); with ADDRESSes,
    just those live objects."""
    from stackctl.export import export as do_export
    from stackctl.workspace import Workspace

    if profiles and all_:
        raise UsageError("Give --profile or --all, not both.")
    if addresses and (profiles or all_):
        raise UsageError("Give ADDRESSes or --profile/--all, not both.")
    ws = Workspace()
    chosen = None if all_ else (list(profiles or ()) or [ws.active().profile])
    result = do_export(ws, None if out == "-" else Path(out), chosen, force=force,
                       addresses=list(addresses or ()))
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
    paths: Paths = None,
) -> None:
    """Write every manifest and flavor schema under DIRECTORY, and the bundled
    stackctl.schema.json for editors (with the custom flavors of the project at PATHS)."""
    from stackctl.schema_bundle import export_schemas

    cwd = Path.cwd()
    written = export_schemas(Path(directory),
                             tuple(str((cwd / p).resolve()) for p in paths or ()))
    log.info("Wrote the schemas to %s; editors: %s", written[0], written[1])


@schema_app.command("show", epilog=examples("stackctl schema show Component",
                                            "stackctl schema show artifact_store/s3"))
def schema_show(name: Annotated[str, typer.Argument(
        metavar="NAME", show_default=False,
        help="A kind (Component, Stack, Profile, Repository, GlobalConfig, Flavor, project) "
             "or a flavor (TYPE/FLAVOR, or FLAVOR when one type has it).")],
) -> None:
    """Print the JSON Schema of a manifest kind (Stack, project...) or a flavor's config
    (artifact_store/s3, or s3)."""
    from stackctl.explain import find_schema

    typer.echo(json.dumps(find_schema(name)[2], indent=2))
