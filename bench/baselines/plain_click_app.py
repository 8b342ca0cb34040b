"""The baseline of bench_startup.py: a plain Click app, a group with 15 subcommands.

Nothing else: no lazy loading, no other imports, every subcommand defined
inline. `python plain_click_app.py --help` is the floor that stackctl's
`--help` is compared with.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.0.0", prog_name="plain")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def cli(debug: bool) -> None:
    """A plain Click application with fifteen subcommands."""


def _make(name: str) -> None:
    @cli.command(name, help=f"Do the {name.replace('-', ' ')} thing.")
    @click.argument("target", required=False)
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
    def command(target: str | None, fmt: str) -> None:
        click.echo(f"{name} {target or ''} {fmt}")


for _name in ("version", "init", "profile", "stack", "validate", "plan", "diff", "apply",
              "drift", "export", "schema", "orchestrator", "artifact-store", "metadata-store",
              "container-registry"):
    _make(_name)


if __name__ == "__main__":
    cli()
