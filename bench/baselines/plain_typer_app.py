"""The Typer baselines of bench_startup.py: a bare Typer app, a group with 15 subcommands.

Configured as stackctl is (plain help: ``rich_markup_mode=None``, no pretty
exceptions, no completion options, ``-h``/``--help``) but nothing else: no lazy
loading, no other imports, every subcommand inline, each taking what
``stackctl stack list`` takes (an optional argument and a ``--format`` choice).

    python plain_typer_app.py --help            the floor for `stackctl --help`
    python plain_typer_app.py stack             a bare Typer command with those parameters:
                                                the floor for a stackctl command's fixed cost
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer

app = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False,
                  context_settings={"help_option_names": ["-h", "--help"]})


@app.callback()
def cli(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
        = False) -> None:
    """A plain Typer application with fifteen subcommands."""


def _make(name: str) -> None:
    @app.command(name, help=f"Do the {name.replace('-', ' ')} thing.")
    def command(target: Annotated[str | None, typer.Argument()] = None,
                fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
                ) -> None:
        typer.echo(f"{name} {target or ''} {fmt}")


for _name in ("version", "init", "profile", "stack", "validate", "plan", "diff", "apply",
              "drift", "export", "schema", "orchestrator", "artifact-store", "metadata-store",
              "container-registry"):
    _make(_name)


if __name__ == "__main__":
    app()
