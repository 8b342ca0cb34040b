"""Views of a Graph: mermaid (GitHub renders it), Graphviz dot, JSON.

The active profile and each profile's active stack are marked: ★ and a thick
border in mermaid, bold and a double border in dot, ``"active": true`` in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stackctl.graph import Graph


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
                   f"profile {profile.name}" + (" ★" if profile.active else ""))
        if profile.active:
            active.append(pid)
        for comp in profile.components:
            node(f"{profile.name}/{comp.type}/{comp.name}",
                 f"{comp.type}: {comp.name}" + (f" ({comp.flavor})" if comp.flavor else ""))
        for stack in profile.stacks:
            sid = node(f"{profile.name}/stack/{stack.name}",
                       f"stack {stack.name}" + (" ★ active" if stack.active else ""))
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
        lines.append(f"  {_dot_id(pkey)} [label={_dot_id(f'profile {profile.name}')}, "
                     f"shape=folder{style}];")
        for comp in profile.components:
            # two lines: dot's own "\n" between the escaped type and name
            label = _dot_id(comp.type)[:-1] + "\\n" + _dot_id(
                comp.name + (f" ({comp.flavor})" if comp.flavor else ""))[1:]
            lines.append(f"  {_dot_id(f'{profile.name}/{comp.type}/{comp.name}')} "
                         f"[label={label}, shape=ellipse];")
        for stack in profile.stacks:
            skey = f"{profile.name}/stack/{stack.name}"
            style = ", style=bold, peripheries=2" if stack.active else ""
            label = f"stack {stack.name}" + (" (active)" if stack.active else "")
            lines.append(f"  {_dot_id(skey)} [label={_dot_id(label)}, shape=box{style}];")
            lines.append(f"  {_dot_id(pkey)} -> {_dot_id(skey)};")
            for ctype, name in stack.components.items():
                lines.append(f"  {_dot_id(skey)} -> {_dot_id(f'{profile.name}/{ctype}/{name}')};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def as_json(graph: Graph) -> str:
    data: dict[str, Any] = {"format_version": 1, "source": graph.source, "profiles": [
        {"name": p.name, "active": p.active,
         "stacks": [{"name": s.name, "active": s.active, "components": dict(s.components)}
                    for s in p.stacks],
         "components": [{"type": c.type, "name": c.name, "flavor": c.flavor}
                        for c in p.components]}
        for p in graph.profiles]}
    return json.dumps(data, indent=2) + "\n"


VIEWS: dict[str, Callable[[Graph], str]] = {"mermaid": mermaid, "dot": dot, "json": as_json}
