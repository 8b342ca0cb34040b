"""Views of ``stackctl explain``: kubectl-style text and JSON."""

from __future__ import annotations

import json
import textwrap

from stackctl.explain import Explanation


def text(explanation: Explanation) -> str:
    label = "KIND" if explanation.what == "kind" else "FLAVOR"
    lines = [f"{label}: {explanation.target}", "", "DESCRIPTION:"]
    lines += textwrap.wrap(explanation.description, 88, initial_indent="    ",
                           subsequent_indent="    ") or ["    (none)"]
    lines += ["", "FIELDS:"]
    for field in explanation.fields:
        marks = [f"<{field.type}>"]
        if field.required:
            marks.append("-required-")
        if field.secret:
            marks.append("-secret-")
        if field.has_default:
            marks.append(f"default: {json.dumps(field.default)}")
        depth = field.path.count(".")
        indent = "    " * (depth + 1)
        lines.append(f"{indent}{field.path.rsplit('.', 1)[-1]}  {'  '.join(marks)}")
        lines += textwrap.wrap(field.description, 88, initial_indent=indent + "    ",
                               subsequent_indent=indent + "    ")
    return "\n".join(lines)


def as_json(explanation: Explanation) -> str:
    return json.dumps({
        "format_version": 1, "target": explanation.target, "what": explanation.what,
        "description": explanation.description,
        "fields": [{"path": f.path, "type": f.type, "required": f.required, "secret": f.secret,
                    "default": f.default if f.has_default else None,
                    "has_default": f.has_default, "description": f.description}
                   for f in explanation.fields],
    }, indent=2)
