"""Views for the imperative commands: header lines, tables, JSON.

Tables are rich tables with ZenML's heavy-edged box and 👉 on the active row;
without a terminal (or with NO_COLOR) they carry no colour codes. Data goes to
stdout, human messages to stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import typer

from stackctl.cli.app import one_of
from stackctl.workspace import Active, Workspace

log = logging.getLogger("stackctl")

ACTIVE_MARK = "👉"

TableFormat = Annotated[Literal["table", "json"], typer.Option(
    "--format", parser=one_of("table", "json"), show_default=True,
    help="Output format: table (for people) or json (for scripts).")]


def header(ws: Workspace, *, show_stack: bool = False) -> Active:
    """ZenML's context lines: repository warning, active profile (and stack)."""
    active = ws.active()
    if ws.discovery.repository is None:
        if ws.discovery.warning:
            log.warning(ws.discovery.warning)
        log.info("Running without an active repository root.")
    log.info("Running with active profile: '%s' (%s)", active.profile, active.scope)
    if show_stack:
        log.info("Running with active stack: '%s'", active.stack)
    return active


def print_table(rows: Sequence[dict[str, Any]], *, title: str | None = None,
                caption: str | None = None) -> None:
    """Rows are ordered mappings; keys become upper-cased column headers."""
    if not rows:
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from stackctl.logs import color_enabled

    plain = not color_enabled(sys.stdout)
    width = None
    if plain:
        width = int(os.environ.get("COLUMNS", "0") or 0) or 160
    console = Console(no_color=plain, highlight=False, width=width,
                      force_terminal=False if plain else None,
                      emoji=False, soft_wrap=False)
    table = Table(box=box.HEAVY_EDGE, show_lines=True, title=title, caption=caption,
                  header_style="" if plain else "bold")
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    for column in columns:
        table.add_column(column.upper(), overflow="fold",
                         justify="center" if column == "active" else "left")
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
