"""`stackctl stack …`: register, list, describe, get, set, delete, copy, up, down."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from stackctl.cli.output import ACTIVE_MARK, FORMAT_OPTION, header, print_json, print_table
from stackctl.errors import UsageError
from stackctl.model import STACK_OPTION_FLAGS, ComponentType
from stackctl.workspace import Workspace, open_workspace

log = logging.getLogger("stackctl")


@click.group()
def stack() -> None:
    """Register, list, activate, copy and delete stacks."""


def _component_options(command: Any) -> Any:
    for ctype in reversed(list(STACK_OPTION_FLAGS)):
        flag = STACK_OPTION_FLAGS[ctype]
        command = click.option(
            flag, f"--{ctype.cli_name}", ctype.value, required=ctype.mandatory,
            help=f"Name of the {ctype.human} for this stack.")(command)
    return command


@stack.command()
@click.argument("name")
@_component_options
def register(name: str, **components: str | None) -> None:
    """Register a stack NAME from registered components."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    chosen = {ComponentType(k): v for k, v in components.items() if v}
    stacks.register(ws, name, chosen)
    log.info("Stack '%s' successfully registered!", name)


def stack_rows(ws: Workspace) -> list[dict[str, Any]]:
    active = ws.active()
    stacks = ws.store(active.profile).load_stacks()
    rows = []
    for name in sorted(stacks):
        row: dict[str, Any] = {"active": name == active.stack, "stack name": name}
        for ctype in sorted(stacks[name].components, key=lambda t: t.value):
            row[ctype.value] = stacks[name].components[ctype]
        rows.append(row)
    return rows


@stack.command("list")
@FORMAT_OPTION
def list_(fmt: str) -> None:
    """List the stacks of the active profile."""
    ws = open_workspace()
    header(ws)
    rows = stack_rows(ws)
    if fmt == "json":
        print_json([{k.replace(" ", "_"): v for k, v in r.items()} for r in rows])
        return
    print_table([{**r, "active": ACTIVE_MARK if r["active"] else ""} for r in rows])


@stack.command()
@click.argument("name", required=False)
@FORMAT_OPTION
def describe(name: str | None, fmt: str) -> None:
    """Show a stack's components (default: the active stack)."""
    from stackctl.operations import stacks

    ws = open_workspace()
    active = header(ws)
    name = name or active.stack
    if not name:
        raise UsageError("No stack is active; name one.")
    found = stacks.get(ws, name, active.profile)
    components = {t.value: n for t, n in sorted(found.components.items())}
    if fmt == "json":
        print_json({"name": found.name, "active": found.name == active.stack,
                    "components": components})
        return
    # real ZenML 0.10 prints the types upper-cased here (seen by tests/test_zenml_real.py)
    print_table([{"component_type": t.upper(), "component_name": n}
                 for t, n in components.items()],
                title="Stack Configuration",
                caption=f"'{found.name}' stack" + (" (ACTIVE)" if name == active.stack else ""))


@stack.command()
def get() -> None:
    """Show the active stack."""
    ws = open_workspace()
    header(ws)
    click.echo(f"The active stack is: '{ws.active().stack}'")


@stack.command("set")
@click.argument("name")
@click.option("--global", "-g", "global_", is_flag=True,
              help="Set the profile's global active stack, even inside a repository.")
def set_(name: str, global_: bool) -> None:
    """Activate stack NAME (inside a repository: locally)."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.activate(ws, name, global_=global_)


@stack.command()
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, yes: bool) -> None:
    """Delete stack NAME (its components stay)."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.get(ws, name)  # a clear "not found" before any question
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"Refusing to delete stack '{name}' without confirmation: there is no "
                "terminal to ask on.", hint="Pass -y/--yes to confirm.")
        click.confirm(f"This will delete stack '{name}' from your repository. Are you sure "
                      "you want to proceed?", abort=True, err=True)
    stacks.delete(ws, name)


@stack.command()
@click.argument("name")
@click.argument("new_name")
@click.option("--from", "from_profile", help="Profile to copy from (default: the active one).")
@click.option("--to", "to_profile", help="Profile to copy to (default: the active one).")
def copy(name: str, new_name: str, from_profile: str | None, to_profile: str | None) -> None:
    """Copy stack NAME to NEW_NAME, with its components across profiles."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.copy(ws, name, new_name, from_profile=from_profile, to_profile=to_profile)


@stack.command()
def up() -> None:
    """Provision the active stack's local resources (directories)."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.up(ws)


@stack.command()
@click.option("--force", "-f", is_flag=True,
              help="Deprovision: DELETE the local artifact store and metadata database.")
def down(force: bool) -> None:
    """Suspend the active stack; with --force, delete its local data."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.down(ws, force=force)
