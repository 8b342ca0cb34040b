"""`stackctl explain KIND | TYPE[/FLAVOR]`: the fields of a manifest kind or a flavor."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from stackctl.cli.app import examples, new_app, one_of

explain_app = new_app()


@explain_app.command(epilog=examples("stackctl explain artifact_store/s3",
                                     "stackctl explain Stack --format json"))
def explain(
    name: Annotated[str, typer.Argument(
        metavar="NAME", show_default=False,
        help="A kind (Stack, Component...) or a flavor (TYPE/FLAVOR, or FLAVOR when one "
             "type has it).")],
    fmt: Annotated[Literal["text", "json"], typer.Option(
        "--format", parser=one_of("text", "json"),
        help="text: for people (like kubectl explain); json: for tools.")] = "text",
) -> None:
    """Fields, types, defaults, required marks and secrets of a kind (Stack) or a
    flavor (artifact_store/s3)."""
    from stackctl.explain import explain as describe
    from stackctl.report import explain as views

    explanation = describe(name)
    typer.echo(views.as_json(explanation) if fmt == "json" else views.text(explanation))
