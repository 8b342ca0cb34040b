"""Views of a Graph: mermaid (GitHub renders it), Graphviz dot, JSON.

The active profile and each profile's active stack are marked: ★ and a thick
border in mermaid, bold and a double border in dot, ``"active": true`` in JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from stackctl.graph import Graph
from stackctl.model import Address
from stackctl.plan.model import Plan


def _mermaid_label(text: str) -> str:
    # mermaid labels are quoted; a quote inside one is written as an entity
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    ids: dict[str, str] = {}

    def node(key: str, label: str) -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            lines.append(f"  {ids[key]}[{_mermaid_label(label)}]")
        return ids[key]

    active: list[str] = []
    for profile in graph.profiles:
        pid = node(f"profile/{profile.name}",
                   f"profile {profile.name}" + _was(profile.was) + (" ★" if profile.active else ""))
        if profile.active:
            active.append(pid)
        for comp in profile.components:
            node(f"{profile.name}/{comp.type}/{comp.name}",
                 f"{comp.type}: {comp.name}" + (f" ({comp.flavor})" if comp.flavor else "")
                 + _was(comp.was))
        for stack in profile.stacks:
            sid = node(f"{profile.name}/stack/{stack.name}",
                       f"stack {stack.name}" + _was(stack.was)
                       + (" ★ active" if stack.active else ""))
            if stack.active:
                active.append(sid)
            lines.append(f"  {pid} --> {sid}")
            for ctype, name in stack.components.items():
                lines.append(f"  {sid} --> {ids[f'{profile.name}/{ctype}/{name}']}")
    if active:
        lines.append("  classDef active stroke-width:3px")
        lines.append(f"  class {','.join(active)} active")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: Graph) -> str:
    lines = ["digraph stackctl {", "  rankdir=LR;", "  node [fontname=Helvetica];"]
    for profile in graph.profiles:
        pkey = f"profile/{profile.name}"
        style = ", style=bold, peripheries=2" if profile.active else ""
        plabel = f"profile {profile.name}{_was(profile.was)}"
        lines.append(f"  {_dot_id(pkey)} [label={_dot_id(plabel)}, "
                     f"shape=folder{style}];")
        for comp in profile.components:
            # two lines: dot's own "\n" between the escaped type and name
            label = _dot_id(comp.type)[:-1] + "\\n" + _dot_id(
                comp.name + (f" ({comp.flavor})" if comp.flavor else "") + _was(comp.was))[1:]
            lines.append(f"  {_dot_id(f'{profile.name}/{comp.type}/{comp.name}')} "
                         f"[label={label}, shape=ellipse];")
        for stack in profile.stacks:
            skey = f"{profile.name}/stack/{stack.name}"
            style = ", style=bold, peripheries=2" if stack.active else ""
            label = (f"stack {stack.name}{_was(stack.was)}"
                     + (" (active)" if stack.active else ""))
            lines.append(f"  {_dot_id(skey)} [label={_dot_id(label)}, shape=box{style}];")
            lines.append(f"  {_dot_id(pkey)} -> {_dot_id(skey)};")
            for ctype, name in stack.components.items():
                lines.append(f"  {_dot_id(skey)} -> {_dot_id(f'{profile.name}/{ctype}/{name}')};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _was(old: str | None) -> str:
    """A renamed object's old name (``moved:``), in a label."""
    return f" (was {old})" if old else ""


def as_json(graph: Graph) -> str:
    def was(old: str | None) -> dict[str, str]:  # only for renamed objects
        return {"was": old} if old else {}

    data: dict[str, Any] = {"format_version": 1, "source": graph.source, "profiles": [
        {"name": p.name, "active": p.active, **was(p.was),
         "stacks": [{"name": s.name, "active": s.active, "components": dict(s.components),
                     **was(s.was)} for s in p.stacks],
         "components": [{"type": c.type, "name": c.name, "flavor": c.flavor, **was(c.was)}
                        for c in p.components]}
        for p in graph.profiles]}
    return json.dumps(data, indent=2) + "\n"


VIEWS: dict[str, Callable[[Graph], str]] = {"mermaid": mermaid, "dot": dot, "json": as_json}


# A plan's picture stays small: past this many nodes it is the counts instead.
PLAN_DIAGRAM_MAX_NODES = 40
_STACK_IN_IMPACT = re.compile(r"stack '([^']+)'")
_SIGN = {"create": "+", "update": "~", "delete": "-", "rename": "~"}


def plan_mermaid(plan: Plan) -> tuple[str | None, int, int]:
    """(mermaid of the changed components and stacks and the stacks they affect, or None
    when there are too many to draw; changed components; affected stacks)."""
    changed = [c for c in plan.changes if c.action in _SIGN and c.kind in ("component", "stack")]
    nodes: dict[str, str] = {}  # address -> mermaid line
    edges: list[str] = []
    ids: dict[str, str] = {}

    def node_id(address: str) -> str:
        return ids.setdefault(address, f"n{len(ids)}")

    for change in changed:
        nid = node_id(change.address)
        label = _mermaid_label(f"{_SIGN[change.action]} {change.address}")
        if change.action == "rename":  # ~ rename prod/orchestrator/old → new
            target = Address.parse(str((change.after or {}).get("to")))
            label = _mermaid_label(f"~ rename {change.address} → {target.name}")
        nodes[change.address] = f"  {nid}[{label}]:::{change.action}"
        if change.kind != "component":
            continue
        for stack in _STACK_IN_IMPACT.findall(" ".join(change.impact)):
            address = f"{change.profile}/stack/{stack}"
            sid = node_id(address)
            nodes.setdefault(address, f"  {sid}[{_mermaid_label(address)}]")
            edges.append(f"  {nid} --> {sid}")
    components = sum(1 for c in changed if c.kind == "component")
    stacks = sum(1 for a in nodes if "/stack/" in a)
    if not nodes or len(nodes) > PLAN_DIAGRAM_MAX_NODES:
        return None, components, stacks
    lines = ["flowchart LR", *nodes.values(), *edges,
             "  classDef create fill:#e6ffec,stroke:#1a7f37",
             "  classDef update fill:#fff8c5,stroke:#9a6700",
             "  classDef delete fill:#ffebe9,stroke:#cf222e",
             *(["  classDef rename fill:#ddf4ff,stroke:#0969da"]
               if any(c.action == "rename" for c in changed) else [])]
    return "\n".join(lines) + "\n", components, stacks
