"""The picture of a configuration: profiles → stacks → components, as values.

Built from the manifests (the desired state) or from the live stores, never
both; the views in report/graph.py draw it as mermaid, Graphviz dot or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stackctl.model import Address, Component, ComponentType, ProfileState, Stack


@dataclass(frozen=True)
class GraphComponent:
    type: str
    name: str
    flavor: str | None  # None: named by a stack, not declared (e.g. the implicit 'default')
    was: str | None = None  # the old name a ``moved:`` entry renames it from


@dataclass(frozen=True)
class GraphStack:
    name: str
    active: bool
    components: Mapping[str, str]  # component type → component name
    was: str | None = None


@dataclass(frozen=True)
class GraphProfile:
    name: str
    active: bool  # the globally active profile
    stacks: tuple[GraphStack, ...]
    components: tuple[GraphComponent, ...]
    was: str | None = None


@dataclass(frozen=True)
class Graph:
    source: str  # "manifests" | "live"
    profiles: tuple[GraphProfile, ...] = field(default=())


def _profile(name: str, active: bool, active_stack: str | None,
             components: Mapping[tuple[ComponentType, str], Component],
             stacks: Mapping[str, Stack],
             was: Mapping[Address, Address] | None = None) -> GraphProfile:
    declared = {(c.type.value, c.name): c.flavor for c in components.values()}
    used = {(t.value, n) for s in stacks.values() for t, n in s.components.items()}
    renamed = was or {}

    def old(address: Address) -> str | None:
        source = renamed.get(address)
        return source.name if source is not None else None

    return GraphProfile(
        name=name, active=active,
        stacks=tuple(GraphStack(s.name, s.name == active_stack,
                                {t.value: n for t, n in sorted(s.components.items())},
                                old(Address.stack(name, s.name)))
                     for _, s in sorted(stacks.items())),
        components=tuple(GraphComponent(t, n, declared.get((t, n)),
                                        old(Address.component(name, ComponentType(t), n)))
                         for t, n in sorted(declared.keys() | used)),
        was=old(Address.of_profile(name)))


def graph_of_manifests(paths: tuple[str, ...], cwd: Path | None = None) -> Graph:
    """The desired state's graph; invalid manifests raise CompileError."""
    from stackctl.compiler.compile import compile_manifests
    from stackctl.compiler.diagnostics import CompileError
    from stackctl.compiler.project import Inputs

    compiled = compile_manifests(Inputs(paths=paths), cwd)
    if not compiled.ok:
        raise CompileError([d for d in compiled.diagnostics if d.severity == "error"])
    desired = compiled.desired
    was = {m.target: m.source for m in desired.moves}  # renamed objects show their old name
    return Graph("manifests", tuple(
        _profile(name, name == desired.active_profile,
                 p.settings.active_stack if p.settings else None, p.components, p.stacks, was)
        for name, p in sorted(desired.profiles.items())))


def graph_of_live() -> Graph:
    """The live configuration's graph: every profile the global config lists."""
    from stackctl.workspace import Workspace, open_store

    ws = Workspace()
    if not ws.globals.exists():
        return Graph("live")
    cfg = ws.config()
    profiles = []
    for name, pc in sorted(cfg.profiles.items()):
        state: ProfileState = open_store(pc).load()
        profiles.append(_profile(name, name == cfg.activated_profile, pc.active_stack,
                                 state.components, state.stacks))
    return Graph("live", tuple(profiles))
