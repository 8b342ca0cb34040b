"""`stackctl graph`: profiles → stacks → components, from the manifests or live."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from stackctl.cli.app import examples, new_app, one_of

graph_app = new_app()


@graph_app.command(epilog=examples(
    "stackctl graph", "stackctl graph manifests/ --format dot | dot -Tsvg > stacks.svg",
    "stackctl graph --live --format json"))
def graph(
    paths: Annotated[list[str] | None, typer.Argument(
        metavar="PATHS", show_default=False,
        help="Manifest files or directories (default: the project here).")] = None,
    live: Annotated[bool, typer.Option(
        "--live", help="Draw the live configuration, not the manifests.")] = False,
    fmt: Annotated[Literal["mermaid", "dot", "json"], typer.Option(
        "--format", parser=one_of("mermaid", "dot", "json"), show_default=True,
        help="mermaid: for markdown (GitHub renders it); dot: for Graphviz; json: nodes and "
             "edges for tools.")] = "mermaid",
) -> int:
    """Draw profiles, stacks and components; the active ones are marked."""
    from stackctl.errors import UsageError
    from stackctl.graph import graph_of_live, graph_of_manifests
    from stackctl.report.graph import VIEWS

    if live and paths:
        raise UsageError("--live draws the live configuration; give no manifest path.")
    cwd = Path.cwd()
    drawn = graph_of_live() if live else graph_of_manifests(
        tuple(str((cwd / p).resolve()) for p in paths or ()), cwd)
    typer.echo(VIEWS[fmt](drawn), nl=False)
    return 0
