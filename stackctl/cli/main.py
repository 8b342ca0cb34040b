"""The ``stackctl`` entry point: the root Typer app and the one error handler.

A ``StackctlError`` becomes ``Error: …`` (plus its hint) on stderr and exit
1; any other exception is a bug: one line saying so, the traceback with
``--debug`` (or ``STACKCTL_DEBUG=1``). A command's return value is its exit code.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from stackctl import __version__
from stackctl.cli.app import CommandFailed, Group, new_app
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
                   f"Commands to interact with {_name.replace('-', ' ')}s.")


class Root(Group):
    lazy = LAZY


app = new_app(cls=Root)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"stackctl, version {__version__}")
        raise typer.Exit


@app.callback()
def cli(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    """stackctl: GitOps for MLOps stacks.

    Keep profiles, stacks and stack components as YAML manifests in git;
    validate, plan and apply them — or manage them imperatively, ZenML-style.
    """
    if debug:
        os.environ["STACKCTL_DEBUG"] = "1"


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
    """``Error: message`` and its hint, or ``Error: file:line:col: message``."""
    typer.echo(f"Error: {exc.message}" if not exc.location else f"Error: {exc}", err=True)
    if exc.hint and not exc.location:
        typer.echo(f"  hint: {exc.hint}", err=True)


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
