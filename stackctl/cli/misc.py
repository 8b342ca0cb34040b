"""`stackctl version` and `stackctl init`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from stackctl import __version__
from stackctl.cli.app import examples, new_app

log = logging.getLogger("stackctl")

version_app = new_app()
init_app = new_app()


@version_app.command(epilog=examples("stackctl version"))
def version() -> None:
    """Show the stackctl version."""
    typer.echo(f"stackctl version {__version__}")


@init_app.command(epilog=examples("stackctl init", "stackctl init path/to/project"))
def init(
    path: Annotated[Path | None, typer.Argument(
        metavar="PATH", file_okay=False, show_default=False,
        help="The directory to initialize (default: the current one).")] = None,
) -> None:
    """Make PATH (default: here) a repository with local active profile and stack."""
    from stackctl.operations import repositories
    from stackctl.workspace import Workspace

    root = (path or Path.cwd()).resolve()
    settings = repositories.initialize(Workspace(cwd=root), root)
    log.info("stackctl repository initialized at %s.", settings.root)
    log.info(
        "The local active profile was initialized to '%s' and the local active stack to "
        "'%s'. This local configuration will only take effect when you're running stackctl "
        "from the initialized repository root, or from a subdirectory. For more information on "
        "profile and stack configuration, run `stackctl profile --help`.",
        settings.active_profile_name, settings.active_stack_name)
