"""`stackctl graph`: profiles → stacks → components, from the manifests or live."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--live", is_flag=True, help="Draw the live configuration, not the manifests.")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "json"]),
              default="mermaid")
def graph(paths: tuple[str, ...], live: bool, fmt: str) -> int:
    """Draw profiles, stacks and components; the active ones are marked."""
    from stackctl.errors import UsageError
    from stackctl.graph import graph_of_live, graph_of_manifests
    from stackctl.report.graph import VIEWS

    if live and paths:
        raise UsageError("--live draws the live configuration; give no manifest path.")
    cwd = Path.cwd()
    drawn = graph_of_live() if live else graph_of_manifests(
        tuple(str((cwd / p).resolve()) for p in paths), cwd)
    click.echo(VIEWS[fmt](drawn), nl=False)
    return 0
