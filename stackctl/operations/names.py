"""Names that exist, for shell completion: profiles, stacks, components, environments
and the addresses of live objects.

Read-only and forgiving: a broken or missing config, store or project file yields
no names (completion must never fail or print), and nothing is created.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from stackctl.model import ComponentType


def _quietly(read: Callable[[], list[str]]) -> list[str]:
    try:
        return sorted(read())
    except Exception:  # completion offers what it can, never an error
        return []


def profile_names() -> list[str]:
    from stackctl.context import Context

    def read() -> list[str]:
        ctx = Context()
        return list(ctx.config().profiles) if ctx.globals.exists() else []

    return _quietly(read)


def stack_names(profile: str | None = None) -> list[str]:
    from stackctl.workspace import Workspace

    def read() -> list[str]:
        ws = Workspace()
        if not ws.globals.exists():
            return []
        return list(ws.store(profile or ws.active().profile).load_stacks())

    return _quietly(read)


def component_names(ctype: ComponentType, profile: str | None = None) -> list[str]:
    from stackctl.workspace import Workspace

    def read() -> list[str]:
        ws = Workspace()
        if not ws.globals.exists():
            return []
        state = ws.state(profile or ws.active().profile)
        return [c.name for c in state.components_of(ctype)]

    return _quietly(read)


def environment_names(cwd: Path | None = None) -> list[str]:
    """The environments the project file (stackctl.yaml) found from ``cwd`` declares."""
    from stackctl.compiler.project import Inputs, load_project

    return _quietly(lambda: list(load_project(Inputs(paths=()), cwd or Path.cwd()).environments))


def live_addresses() -> list[str]:
    """Every live object's address in every profile (``profile/P``, ``P/stack/S``,
    ``P/<type>/C``), as ``--target``, ``--exclude`` and ``export ADDRESS`` take them."""
    from stackctl.model import Address
    from stackctl.workspace import Workspace

    def read() -> list[str]:
        ws = Workspace()
        if not ws.globals.exists():
            return []
        found: list[str] = []
        for profile in ws.config().profiles:
            found.append(str(Address.of_profile(profile)))
            state = ws.state(profile)
            found += [str(Address.stack(profile, name)) for name in state.stacks]
            found += [str(Address.component(profile, c.type, c.name))
                      for c in state.components.values()]
        return found

    return _quietly(read)
