"""Names that exist, for shell completion: profiles, stacks, components, environments.

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
