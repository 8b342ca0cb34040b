"""Shell completion of names: Typer ``autocompletion`` callbacks over operations.names.

Each takes (ctx, args, incomplete) as Typer calls it and returns the matching names.
A component name's type comes from the command group it is typed under
(``stackctl artifact-store describe <TAB>``) or, for ``stack register``'s options,
from the option itself (``-a <TAB>``: artifact stores).
"""

from __future__ import annotations

from typing import Any

from stackctl.model import ComponentType


def _matching(names: list[str], incomplete: str) -> list[str]:
    return [n for n in names if n.startswith(incomplete)]


def profiles(ctx: Any, args: list[str], incomplete: str) -> list[str]:
    from stackctl.operations.names import profile_names

    return _matching(profile_names(), incomplete)


def stacks(ctx: Any, args: list[str], incomplete: str) -> list[str]:
    from stackctl.operations.names import stack_names

    return _matching(stack_names(), incomplete)


def environments(ctx: Any, args: list[str], incomplete: str) -> list[str]:
    from stackctl.operations.names import environment_names

    return _matching(environment_names(), incomplete)


def _component_type(ctx: Any) -> ComponentType | None:
    by_cli_name = {t.cli_name: t for t in ComponentType}
    while ctx is not None:
        if ctx.info_name in by_cli_name:
            return by_cli_name[ctx.info_name]
        ctx = ctx.parent
    return None


def components(ctx: Any, args: list[str], incomplete: str) -> list[str]:
    """Components of the type of the group this command is under."""
    from stackctl.operations.names import component_names

    ctype = _component_type(ctx)
    return _matching(component_names(ctype), incomplete) if ctype else []


def components_of(ctype: ComponentType) -> Any:
    """Completion of one type's component names (``stack register -a …``)."""

    def complete(ctx: Any, args: list[str], incomplete: str) -> list[str]:
        from stackctl.operations.names import component_names

        return _matching(component_names(ctype), incomplete)

    return complete


def addresses(ctx: Any, args: list[str], incomplete: str) -> list[str]:
    """Addresses of live objects (``--target``, ``--exclude``, ``export ADDRESS``)."""
    from stackctl.operations.names import live_addresses

    return _matching(live_addresses(), incomplete)
