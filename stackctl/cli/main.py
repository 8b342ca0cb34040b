"""The ``stackctl`` entry point: the root Typer app and the one error handler.

A ``StackctlError`` becomes ``Error: …`` (plus its hint) on stderr and exit
1; any other exception is a bug: one line saying so, the traceback with
``--debug`` (or ``STACKCTL_DEBUG=1``). A command's return value is its exit code.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer

from stackctl import __version__
from stackctl.cli.app import CommandFailed, Group, examples, new_app
from stackctl.cli.words import plural
from stackctl.logs import setup_logging

_COMPONENT_TYPES = (
    "orchestrator", "metadata-store", "artifact-store", "container-registry", "step-operator",
    "secrets-manager", "feature-store", "model-deployer", "experiment-tracker", "alerter",
    "data-validator",
)

LAZY: dict[str, tuple[str, str]] = {
    "version": ("stackctl.cli.misc:version_app", "Show the stackctl version."),
    "init": ("stackctl.cli.misc:init_app",
             "Make a directory a repository (.zen) with local settings."),
    "profile": ("stackctl.cli.profile:app", "Create, list, activate and delete profiles."),
    "stack": ("stackctl.cli.stack:app", "Register, list, activate, copy and delete stacks."),
    "validate": ("stackctl.cli.declarative:validate_app", "Check manifests; report every problem."),
    "plan": ("stackctl.cli.declarative:plan_app",
             "Show what applying the manifests would change."),
    "diff": ("stackctl.cli.declarative:diff_app", "Show differences between manifests and live."),
    "apply": ("stackctl.cli.declarative:apply_app", "Make the live configuration match."),
    "drift": ("stackctl.cli.declarative:drift_app", "Report live changes made outside stackctl."),
    "export": ("stackctl.cli.declarative:export_app",
               "Write the live configuration as manifests."),
    "schema": ("stackctl.cli.declarative:schema_app", "Export or show the manifest JSON Schemas."),
}
for _name in _COMPONENT_TYPES:
    LAZY[_name] = (f"stackctl.cli.component:{_name.replace('-', '_')}",
                   f"Commands to interact with {plural(_name.replace('-', ' '))}.")


class Root(Group):
    lazy = LAZY


app = new_app(cls=Root, completion=True)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"stackctl, version {__version__}")
        raise typer.Exit


def _chdir(directory: str | None) -> str | None:
    """``-C DIR``: work as if started in DIR (as git and terraform do), before any command."""
    if directory is not None:
        try:
            os.chdir(directory)
        except OSError as exc:
            raise typer.BadParameter(f"cannot change to '{directory}': {exc.strerror}.") from None
    return directory


@app.callback(epilog=examples(
    "stackctl validate && stackctl plan", "stackctl -C infra/ apply --auto-approve",
    "stackctl stack list --format json", "stackctl COMMAND --help"))
def cli(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="Show tracebacks of errors (also STACKCTL_DEBUG=1).")] = False,
    quiet: Annotated[bool, typer.Option(
        "-q", "--quiet",
        help="Only warnings and errors on stderr (data on stdout is unchanged).")] = False,
    chdir: Annotated[str | None, typer.Option(
        "-C", "--chdir", metavar="DIR", callback=_chdir,
        help="Run as if stackctl was started in DIR.")] = None,
) -> None:
    """stackctl: GitOps for MLOps stacks.

    Keep profiles, stacks and stack components as YAML manifests in git;
    validate, plan and apply them — or manage them imperatively, ZenML-style.
    """
    if debug:
        os.environ["STACKCTL_DEBUG"] = "1"
    if quiet:  # the core's human messages are INFO; warnings and errors still show
        logging.getLogger("stackctl").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    from stackctl.errors import StackctlError

    setup_logging()
    debug = bool(os.environ.get("STACKCTL_DEBUG")) or "--debug" in (argv or sys.argv[1:])
    try:
        command = typer.main.get_command(app)
        result = command.main(args=argv, prog_name="stackctl", standalone_mode=False)
    except (StackctlError, CommandFailed) as exc:
        if debug:
            import traceback

            traceback.print_exc()
        if isinstance(exc, CommandFailed):
            show_error(exc.error)
            return exc.exit_code
        show_error(exc)
        return 1
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        return 1
    except typer.TyperException as exc:  # Click's usage and parameter errors
        _show_usage_error(exc)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # a bug: say so plainly
        if debug:
            raise
        typer.echo(f"stackctl hit an internal error ({type(exc).__name__}: {exc}). This is a "
                   "bug; run again with --debug for the traceback and report it.", err=True)
        return 70
    return result if isinstance(result, int) else 0


def show_error(exc: Any) -> None:
    """``Error: message`` and its hint, or ``Error: file:line:col: message``; manifests'
    problems (a CompileError's diagnostics) are listed first."""
    from stackctl.logs import color_enabled
    from stackctl.report.diagnostics import HINT_COLOR, paint

    color = color_enabled(sys.stderr)
    diagnostics = getattr(exc, "diagnostics", None)
    if diagnostics:
        from pathlib import Path

        from stackctl.report.diagnostics import text

        typer.echo(text(diagnostics, Path.cwd(), color=color), err=True, color=color)
    error = paint("Error:", "red") if color else "Error:"
    typer.echo(f"{error} {exc.message}" if not exc.location else f"{error} {exc}", err=True,
               color=color)
    if exc.hint and not exc.location:
        typer.echo(f"  {paint('hint:', HINT_COLOR) if color else 'hint:'} {exc.hint}", err=True,
                   color=color)


def _show_usage_error(exc: typer.TyperException) -> None:
    """As Click shows it: usage, ``Try '… --help' for help.``, a blank line, the error."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group without a command: its help
        exc.show()  # type: ignore[attr-defined]
        return
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        names = ctx.command.get_help_option_names(ctx)
        hint = (f"Try '{ctx.command_path} {max(names, key=len)}' for help.\n"
                if ctx.command.get_help_option(ctx) is not None else "")
        typer.echo(f"{ctx.get_usage()}\n{hint}", err=True)
    typer.echo(f"Error: {exc.format_message()}", err=True)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
