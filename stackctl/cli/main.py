"""The ``stackctl`` entry point: the root group and the one error handler.

A ``StackctlError`` becomes ``Error: …`` (plus its hint) on stderr and exit
1; any other exception is a bug: one line saying so, the traceback with
``--debug`` (or ``STACKCTL_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys

import click

from stackctl import __version__
from stackctl.cli.lazy import LazyGroup
from stackctl.logs import setup_logging

_COMPONENT_TYPES = (
    "orchestrator", "metadata-store", "artifact-store", "container-registry", "step-operator",
    "secrets-manager", "feature-store", "model-deployer", "experiment-tracker", "alerter",
    "data-validator",
)

LAZY: dict[str, tuple[str, str]] = {
    "version": ("stackctl.cli.misc:version", "Show the stackctl version."),
    "init": ("stackctl.cli.misc:init", "Make a directory a repository (.zen) with local settings."),
    "profile": ("stackctl.cli.profile:profile", "Create, list, activate and delete profiles."),
    "stack": ("stackctl.cli.stack:stack", "Register, list, activate, copy and delete stacks."),
    "validate": ("stackctl.cli.declarative:validate", "Check manifests; report every problem."),
    "plan": ("stackctl.cli.declarative:plan", "Show what applying the manifests would change."),
    "show": ("stackctl.cli.declarative:show", "Render a saved plan file."),
    "diff": ("stackctl.cli.declarative:diff", "Show differences between manifests and live."),
    "apply": ("stackctl.cli.declarative:apply", "Make the live configuration match."),
    "drift": ("stackctl.cli.declarative:drift", "Report live changes made outside stackctl."),
    "export": ("stackctl.cli.declarative:export", "Write the live configuration as manifests."),
    "schema": ("stackctl.cli.declarative:schema", "Export or show the manifest JSON Schemas."),
}
for _name in _COMPONENT_TYPES:
    LAZY[_name] = (f"stackctl.cli.component:{_name.replace('-', '_')}",
                   f"Commands to interact with {_name.replace('-', ' ')}s.")

# The exit code for errors; `diff` raises it to 2 (its 1 means "differences").
error_exit_code = 1


@click.group(cls=LazyGroup, lazy=LAZY, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="stackctl",
                      message="stackctl, version %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def cli(debug: bool) -> None:
    """stackctl: GitOps for MLOps stacks.

    Keep profiles, stacks and stack components as YAML manifests in git;
    validate, plan and apply them — or manage them imperatively, ZenML-style.
    """
    if debug:
        os.environ["STACKCTL_DEBUG"] = "1"


def main(argv: list[str] | None = None) -> int:
    from stackctl.errors import StackctlError

    global error_exit_code  # noqa: PLW0603 - `diff` raises it for one run only
    error_exit_code = 1
    setup_logging()
    debug = bool(os.environ.get("STACKCTL_DEBUG")) or "--debug" in (argv or sys.argv[1:])
    try:
        result = cli.main(args=argv, prog_name="stackctl", standalone_mode=False)
    except StackctlError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"Error: {exc.message}" if not exc.location else f"Error: {exc}",
                   err=True)
        if exc.hint and not exc.location:
            click.echo(f"  hint: {exc.hint}", err=True)
        return error_exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return error_exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # a bug: say so plainly
        if debug:
            raise
        click.echo(f"stackctl hit an internal error ({type(exc).__name__}: {exc}). This is a "
                   "bug; run again with --debug for the traceback and report it.", err=True)
        return 70
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
