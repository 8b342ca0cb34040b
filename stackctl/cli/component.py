"""`stackctl <component-type> …`: one command group per component type.

Every group is built by ``_group`` from the same commands, so the eleven
types behave identically.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

from stackctl.cli import complete
from stackctl.cli.app import App, examples, new_app
from stackctl.cli.output import ACTIVE_MARK, TableFormat, header, print_json, print_table
from stackctl.cli.words import a, plural
from stackctl.errors import UsageError
from stackctl.model import ComponentType
from stackctl.workspace import Workspace, open_workspace

log = logging.getLogger("stackctl")

Name = Annotated[str, typer.Argument(
    metavar="NAME", show_default=False, autocompletion=complete.components,
    help="The component's name.")]
OptionalName = Annotated[str | None, typer.Argument(
    metavar="NAME", show_default=False, autocompletion=complete.components,
    help="The component's name (default: the active stack's).")]
Flavor = Annotated[str, typer.Option(
    "--flavor", "-f", help="The flavor (see `… flavor list`); its settings follow as --key=value.")]
# register/update take the flavor's settings as --key=value, parsed by parse_extra_options
EXTRA_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


def parse_extra_options(args: list[str]) -> list[tuple[str, str]]:
    """``--key=value`` / ``--key value`` tokens → (key, value), keys with '_'."""
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or token == "--":  # noqa: S105 - not a password
            raise UsageError(f"Unexpected argument '{token}'.",
                             hint="Pass component settings as --key=value.")
        body = token[2:]
        if "=" in body:
            key, value = body.split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            key, value = body, args[i + 1]
            i += 1
        else:
            raise UsageError(f"Option '--{body}' needs a value.", hint=f"Use --{body}=VALUE.")
        pairs.append((key.replace("-", "_"), value))
        i += 1
    return pairs


def _active_component(ws: Workspace, ctype: ComponentType) -> str | None:
    active = ws.active()
    state = ws.state(active.profile)
    stack = state.stacks.get(active.stack or "")
    return stack.components.get(ctype) if stack else None


def _group(ctype: ComponentType) -> App:
    from stackctl import flavors

    human, cli, many = ctype.human, f"stackctl {ctype.cli_name}", plural(ctype.human)
    group = new_app(f"Commands to interact with {many}.", name=ctype.cli_name)

    @group.command("list", help=f"List all registered {many} of the active profile.",
                   epilog=examples(f"{cli} list", f"{cli} list --format json"))
    def list_(fmt: TableFormat = "table") -> None:
        ws = open_workspace()
        active = header(ws, show_stack=True)
        state = ws.state(active.profile)
        in_use = _active_component(ws, ctype)
        rows = []
        for comp in state.components_of(ctype):
            flavor = _flavor_or_none(ctype, comp.flavor, state.flavors)
            rows.append({"active": comp.name == in_use, "name": comp.name,
                         "flavor": comp.flavor, "uuid": comp.uuid,
                         **flavors.redact(flavor, comp.config)})
        if fmt == "json":
            print_json(rows)
            return
        if not rows:
            log.info("No %s registered.", many)
        print_table([{**r, "active": ACTIVE_MARK if r["active"] else ""} for r in rows])

    @group.command(help=f"Show the active stack's {human}.", epilog=examples(f"{cli} get"))
    def get() -> None:
        ws = open_workspace()
        header(ws, show_stack=True)
        name = _active_component(ws, ctype)
        if name is None:
            log.info("No %s is set for the active stack.", ctype.human)
        else:
            typer.echo(f"Active {ctype.human}: '{name}'")

    @group.command(help=f"Show one {human}: flavor, uuid and settings (secrets masked).",
                   epilog=examples(f"{cli} describe", f"{cli} describe NAME --format json"))
    def describe(name: OptionalName = None, fmt: TableFormat = "table") -> None:
        from stackctl.operations import components

        ws = open_workspace()
        active = header(ws, show_stack=True)
        in_use = _active_component(ws, ctype)
        name = name or in_use
        if name is None:
            raise UsageError(f"The active stack has no {ctype.human}; name one.")
        comp = components.get(ws, ctype, name, active.profile)
        state = ws.state(active.profile)
        shown = flavors.redact(_flavor_or_none(ctype, comp.flavor, state.flavors), comp.config)
        data = {"name": comp.name, "type": ctype.value, "flavor": comp.flavor,
                "uuid": comp.uuid, **shown}
        if fmt == "json":
            print_json({**data, "active": comp.name == in_use})
            return
        print_table([{"property": k.upper(), "value": v} for k, v in data.items()],
                    title=f"{ctype.human.title()} '{comp.name}'"
                          + (" (ACTIVE)" if comp.name == in_use else ""))

    @group.command(
        help=f"Register {a(human)} NAME: --flavor F and its settings as --key=value.",
        context_settings=EXTRA_ARGS, epilog=examples(*_REGISTER_EXAMPLES.get(ctype, (
            f"{cli} register NAME --flavor=FLAVOR --key=value",))))
    def register(ctx: typer.Context, name: Name, flavor_name: Flavor) -> None:
        from stackctl.operations import components

        ws = open_workspace()
        active = header(ws)
        pairs = parse_extra_options(list(ctx.args))
        state = ws.state(active.profile)
        config = components.parse_cli_options(ctype, flavor_name, pairs, state.flavors)
        comp = components.build(ctype, name, flavor_name, config, state.flavors)
        components.register(ws, comp, active.profile)
        log.info("Successfully registered %s `%s`.", ctype.human, name)

    @group.command(help=f"Update settings of {a(human)} NAME, given as --key=value.",
                   context_settings=EXTRA_ARGS,
                   epilog=examples(f"{cli} update NAME --key=value"))
    def update(ctx: typer.Context, name: Name) -> None:
        from stackctl.operations import components

        ws = open_workspace()
        active = header(ws)
        pairs = parse_extra_options(list(ctx.args))
        if not pairs:
            raise UsageError("Nothing to update.", hint="Pass settings as --key=value.")
        components.update(ws, ctype, name, pairs, active.profile)

    @group.command(help=f"Delete {a(human)} NAME (not while a stack uses it).",
                   epilog=examples(f"{cli} delete NAME"))
    def delete(name: Name) -> None:
        from stackctl.operations import components

        ws = open_workspace()
        active = header(ws)
        components.delete(ws, ctype, name, active.profile)

    flavor = new_app(f"Flavors of {many}.")
    group.add_typer(flavor, name="flavor")

    @flavor.command("list", help=f"List the flavors of {many}: built-in and custom.",
                    epilog=examples(f"{cli} flavor list"))
    def flavor_list(fmt: TableFormat = "table") -> None:
        ws = open_workspace()
        active = header(ws)
        custom = ws.state(active.profile).flavors
        rows = [{"flavor": f.name, "type": f.type.value, "integration": f.integration,
                 "source": f.source} for f in flavors.flavors_of(ctype, custom)]
        if fmt == "json":
            print_json(rows)
            return
        print_table(rows)

    return group


_REGISTER_EXAMPLES = {
    ComponentType.ARTIFACT_STORE: (
        "stackctl artifact-store register my_store --flavor=local --path=/data/artifacts",
        "stackctl artifact-store register s3_store --flavor=s3 --path=s3://bucket/zenml"),
    ComponentType.ORCHESTRATOR: ("stackctl orchestrator register my_orch --flavor=local",),
    ComponentType.METADATA_STORE: (
        "stackctl metadata-store register my_meta --flavor=sqlite --uri=/data/metadata.db",),
}


def _flavor_or_none(ctype: ComponentType, name: str, custom: Any) -> Any:
    from stackctl import flavors
    from stackctl.errors import NotFoundError

    try:
        return flavors.get(ctype, name, custom)
    except NotFoundError:
        return None


orchestrator = _group(ComponentType.ORCHESTRATOR)
metadata_store = _group(ComponentType.METADATA_STORE)
artifact_store = _group(ComponentType.ARTIFACT_STORE)
container_registry = _group(ComponentType.CONTAINER_REGISTRY)
step_operator = _group(ComponentType.STEP_OPERATOR)
secrets_manager = _group(ComponentType.SECRETS_MANAGER)
feature_store = _group(ComponentType.FEATURE_STORE)
model_deployer = _group(ComponentType.MODEL_DEPLOYER)
experiment_tracker = _group(ComponentType.EXPERIMENT_TRACKER)
alerter = _group(ComponentType.ALERTER)
data_validator = _group(ComponentType.DATA_VALIDATOR)
