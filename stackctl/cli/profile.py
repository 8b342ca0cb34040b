"""`stackctl profile …`: list, create, set, get, describe, delete."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import typer

from stackctl.cli import complete
from stackctl.cli.app import examples, new_app, one_of
from stackctl.cli.output import ACTIVE_MARK, TableFormat, header, print_json, print_table
from stackctl.workspace import Workspace, open_workspace

log = logging.getLogger("stackctl")

app = new_app("Create, list, activate and delete profiles.")

Name = Annotated[str, typer.Argument(
    metavar="NAME", show_default=False, autocompletion=complete.profiles,
    help="The profile's name.")]


def _rows(ws: Workspace) -> list[dict[str, Any]]:
    from stackctl.operations.profiles import shown_url

    active = ws.active()
    rows = []
    for p in sorted(ws.config().profiles.values(), key=lambda p: p.name):
        is_active = p.name == active.profile
        rows.append({
            "active": is_active, "profile name": p.name, "store type": p.store_type,
            "url": shown_url(p),
            "active stack": active.stack if is_active else p.active_stack,
        })
    return rows


@app.command("list", epilog=examples("stackctl profile list",
                                      "stackctl profile list --format json"))
def list_(fmt: TableFormat = "table") -> None:
    """List all profiles."""
    ws = open_workspace()
    header(ws)
    rows = _rows(ws)
    if fmt == "json":
        print_json([{k.replace(" ", "_"): v for k, v in r.items()} for r in rows])
        return
    print_table([{**r, "active": ACTIVE_MARK if r["active"] else ""} for r in rows])


@app.command(epilog=examples(
    "stackctl profile create dev",
    "stackctl profile create team --store-type sql --url-from-env TEAM_DB_URL"))
def create(
    name: Name,
    store_type: Annotated[Literal["local", "sql"], typer.Option(
        "--store-type", "-t", parser=one_of("local", "sql"), show_default=True,
        help="Where the profile keeps its stacks: local (files in ZenML 0.10's layout) "
             "or sql (a database, for a team).")] = "local",
    url: Annotated[str | None, typer.Option(
        "--url", "-u", metavar="URL",
        help="Store URL (sql: any SQLAlchemy URL; default: a SQLite file).")] = None,
    url_from_env: Annotated[str | None, typer.Option(
        "--url-from-env", metavar="VAR",
        help="Read the store URL from this environment variable at each use (the "
             "password stays out of config.yaml).")] = None,
) -> None:
    """Create a profile NAME (with its default stack)."""
    from stackctl.operations import profiles

    ws = open_workspace()
    header(ws)
    profiles.create(ws, name, store_type, url, url_from_env=url_from_env)


@app.command("set", epilog=examples("stackctl profile set dev",
                                     "stackctl profile set dev --global"))
def set_(
    name: Name,
    global_: Annotated[bool, typer.Option(
        "--global", "-g", help="Set the global active profile, even inside a repository.")]
    = False,
) -> None:
    """Activate profile NAME (inside a repository: locally)."""
    from stackctl.operations import profiles

    ws = open_workspace()
    header(ws)
    profiles.activate(ws, name, global_=global_)


@app.command(epilog=examples("stackctl profile get"))
def get() -> None:
    """Show the active profile."""
    ws = open_workspace()
    typer.echo(f"Active profile is: {ws.active().profile}")


@app.command(epilog=examples("stackctl profile describe", "stackctl profile describe team"))
def describe(
    name: Annotated[str | None, typer.Argument(
        metavar="NAME", show_default=False, autocompletion=complete.profiles,
        help="The profile's name (default: the active one).")] = None,
    fmt: TableFormat = "table",
) -> None:
    """Show a profile's configuration (default: the active one)."""
    from stackctl.operations.profiles import shown_url

    ws = open_workspace()
    active = header(ws)
    p = ws.profile(name)
    data = {"name": p.name, "store_type": p.store_type, "url": shown_url(p),
            "active_stack": active.stack if p.name == active.profile else p.active_stack,
            "active_user": p.active_user, "active": p.name == active.profile}
    if fmt == "json":
        print_json(data)
        return
    print_table([{"property": k.upper(), "value": v} for k, v in data.items()],
                title="Profile Configuration",
                caption=f"'{p.name}' profile" + (" (ACTIVE)" if data["active"] else ""))


@app.command(epilog=examples("stackctl profile delete dev"))
def delete(name: Name) -> None:
    """Delete profile NAME (never the globally active one)."""
    from stackctl.operations import profiles

    ws = open_workspace()
    header(ws)
    profiles.delete(ws, name)


@app.command(epilog=examples("stackctl profile migrate team"))
def migrate(name: Name) -> None:
    """Upgrade the schema of profile NAME's SQL store to this stackctl's.

    Any command upgrades an older store on first use; this does it explicitly
    (e.g. from a CI job, before the team upgrades). A store made by a newer
    stackctl is refused and left untouched.
    """
    from stackctl.operations import profiles

    ws = open_workspace()
    header(ws)
    revisions = profiles.migrate(ws, name)
    if revisions is None:
        log.info("Profile '%s' has a %s store: it has no schema to migrate.",
                 name, ws.profile(name).store_type)
        return
    before, after = revisions
    if before == after:
        log.info("The store of profile '%s' is already at schema revision %s.", name, after)
