"""`stackctl stack …`: register, list, describe, get, set, delete, copy, up, down."""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

import typer

from stackctl.cli import complete
from stackctl.cli.app import confirm, examples, new_app
from stackctl.cli.output import ACTIVE_MARK, TableFormat, header, print_json, print_table
from stackctl.errors import UsageError
from stackctl.model import STACK_OPTION_FLAGS, ComponentType
from stackctl.workspace import Workspace, open_workspace

log = logging.getLogger("stackctl")


app = new_app("Register, list, activate, copy and delete stacks.")

Name = Annotated[str, typer.Argument(
    metavar="NAME", show_default=False, autocompletion=complete.stacks, help="The stack's name.")]
OptionalName = Annotated[str | None, typer.Argument(
    metavar="NAME", show_default=False, autocompletion=complete.stacks,
    help="The stack's name (default: the active stack).")]


def _component_options(command: Callable[..., None]) -> Callable[..., None]:
    """One option per component type (``-o/--orchestrator`` …), from STACK_OPTION_FLAGS:
    the command takes them as ``**components``, Typer reads them from its signature."""
    hints = get_type_hints(command, include_extras=True)
    sig = inspect.signature(command)
    params = [p.replace(annotation=hints[p.name]) for p in sig.parameters.values()
              if p.kind is not p.VAR_KEYWORD]
    for ctype, flag in STACK_OPTION_FLAGS.items():
        option = typer.Option(flag, f"--{ctype.cli_name}", show_default=False,
                              autocompletion=complete.components_of(ctype),
                              help=f"Name of the {ctype.human} for this stack.")
        annotation = Annotated[str, option] if ctype.mandatory else Annotated[str | None, option]
        params.append(inspect.Parameter(
            ctype.value, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
            default=inspect.Parameter.empty if ctype.mandatory else None))
    command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


@app.command(epilog=examples(
    "stackctl stack register my_stack -o default -m default -a my_store",
    "stackctl stack register gpu -o kubeflow -m mysql_meta -a s3_store -c ecr"))
@_component_options
def register(name: Name, **components: str | None) -> None:
    """Register a stack NAME from registered components."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    chosen = {ComponentType(k): v for k, v in components.items() if v}
    stacks.register(ws, name, chosen)
    log.info("Stack '%s' successfully registered!", name)


def stack_rows(ws: Workspace) -> list[dict[str, Any]]:
    active = ws.active()
    from stackctl.operations.stacks import all_stacks

    stacks = all_stacks(ws, active.profile)
    rows = []
    for name in sorted(stacks):
        row: dict[str, Any] = {"active": name == active.stack, "stack name": name}
        for ctype in sorted(stacks[name].components, key=lambda t: t.value):
            row[ctype.value] = stacks[name].components[ctype]
        rows.append(row)
    return rows


@app.command("list", epilog=examples("stackctl stack list", "stackctl stack list --format json"))
def list_(fmt: TableFormat = "table") -> None:
    """List the stacks of the active profile."""
    ws = open_workspace()
    header(ws)
    rows = stack_rows(ws)
    if fmt == "json":
        print_json([{k.replace(" ", "_"): v for k, v in r.items()} for r in rows])
        return
    print_table([{**r, "active": ACTIVE_MARK if r["active"] else ""} for r in rows])


@app.command(epilog=examples("stackctl stack describe", "stackctl stack describe my_stack"))
def describe(name: OptionalName = None, fmt: TableFormat = "table") -> None:
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


@app.command(epilog=examples("stackctl stack get"))
def get() -> None:
    """Show the active stack."""
    ws = open_workspace()
    header(ws)
    typer.echo(f"The active stack is: '{ws.active().stack}'")


@app.command("set", epilog=examples("stackctl stack set my_stack",
                                     "stackctl stack set my_stack --global"))
def set_(
    name: Name,
    global_: Annotated[bool, typer.Option(
        "--global", "-g",
        help="Set the profile's global active stack, even inside a repository.")] = False,
) -> None:
    """Activate stack NAME (inside a repository: locally)."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.activate(ws, name, global_=global_)


@app.command(epilog=examples("stackctl stack delete my_stack --yes"))
def delete(
    name: Name,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
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
        confirm(f"This will delete stack '{name}' from your repository. Are you sure "
                "you want to proceed?")
    stacks.delete(ws, name)


@app.command(epilog=examples("stackctl stack copy my_stack my_copy",
                            "stackctl stack copy my_stack my_stack --from dev --to prod"))
def copy(
    name: Name,
    new_name: Annotated[str, typer.Argument(
        metavar="NEW_NAME", show_default=False, help="The copy's name.")],
    from_profile: Annotated[str | None, typer.Option(
        "--from", metavar="PROFILE", autocompletion=complete.profiles,
        help="Profile to copy from (default: the active one).")] = None,
    to_profile: Annotated[str | None, typer.Option(
        "--to", metavar="PROFILE", autocompletion=complete.profiles,
        help="Profile to copy to (default: the active one).")] = None,
) -> None:
    """Copy stack NAME to NEW_NAME, with its components across profiles."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.copy(ws, name, new_name, from_profile=from_profile, to_profile=to_profile)


@app.command(epilog=examples("stackctl stack up"))
def up() -> None:
    """Provision the active stack's local resources (directories)."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.up(ws)


@app.command(epilog=examples("stackctl stack down", "stackctl stack down --force"))
def down(
    force: Annotated[bool, typer.Option(
        "--force", "-f",
        help="Deprovision: DELETE the local artifact store and metadata database.")] = False,
) -> None:
    """Suspend the active stack; with --force, delete its local data."""
    from stackctl.operations import stacks

    ws = open_workspace()
    header(ws)
    stacks.down(ws, force=force)
