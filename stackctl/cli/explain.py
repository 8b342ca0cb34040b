"""`stackctl explain KIND | TYPE[/FLAVOR]`: the fields of a manifest kind or a flavor."""

from __future__ import annotations

import click


@click.command()
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def explain(name: str, fmt: str) -> None:
    """Fields, types, defaults, required marks and secrets of a kind (Stack) or a
    flavor (artifact_store/s3)."""
    from stackctl.explain import explain as describe
    from stackctl.report import explain as views

    explanation = describe(name)
    click.echo(views.as_json(explanation) if fmt == "json" else views.text(explanation))
