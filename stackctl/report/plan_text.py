"""The human view of a plan (and of a diff): one line per change, field diffs below."""

from __future__ import annotations

import json
from typing import Any

from stackctl.plan.model import Change, Plan, defaults_line

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "no-op": "="}
COLORS = {"create": "green", "update": "yellow", "delete": "red", "no-op": "white"}


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def change_lines(change: Change, plan: Plan | None = None) -> list[str]:
    lines = [f"{SYMBOLS[change.action]} {change.action:<6} {change.address}"
             + ("  (now managed by stackctl)" if change.adopt else "")]
    if change.action == "create" and change.after:
        for key, value in _flatten(change.after):
            lines.append(f"      {key}: {_value(value)}")
    if (plan is not None and change.kind == "profile" and change.action == "create"
            and change.profile and plan.defaults_of(change.profile)):
        lines.append(f"      + {defaults_line(plan, change.profile)}")
    for field in change.fields:
        lines.append(f"      {field.path}: {_value(field.old)} → {_value(field.new)}")
    if change.impact:
        lines.append(f"      used by: {', '.join(change.impact)}")
    return lines


def _flatten(view: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    # sorted: a saved plan's JSON has sorted keys, and `show` must print what `plan` did
    for key, value in sorted(view.items()):
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "configSchema":
            out.extend(_flatten(value, f"{path}."))
        else:
            out.append((path, value))
    return out


def render(plan: Plan, *, color: bool = False, diff_only: bool = False) -> str:
    import typer

    lines: list[str] = []
    shown = [c for c in plan.changes if c.action != "no-op" or c.adopt]
    for change in shown:
        for i, line in enumerate(change_lines(change, plan)):
            lines.append(typer.style(line, fg=COLORS[change.action]) if color and i == 0
                         else line)
    unchanged = sum(1 for c in plan.changes if c.action == "no-op" and not c.adopt)
    if unchanged and not diff_only:
        lines.append(f"= {unchanged} unchanged resource{'s' * (unchanged != 1)}")
    if plan.drift:
        lines.append("")
        lines.append("Drift (live changed outside stackctl since its last apply):")
        lines.extend(f"  ! {d.address}: {d.detail}" for d in plan.drift)
    if plan.prunable and not diff_only:
        lines.append("")
        lines.append("Managed by stackctl but gone from the manifests (deleted only with "
                     "--prune):")
        lines.extend(f"  {a}" for a in plan.prunable)
    if plan.unmanaged and not diff_only:
        lines.append("")
        lines.append(f"Unmanaged (not in the manifests, never touched): {len(plan.unmanaged)}")
        lines.extend(f"  {a}" for a in plan.unmanaged[:50])
        if len(plan.unmanaged) > 50:
            lines.append(f"  … and {len(plan.unmanaged) - 50} more")
    if not diff_only:
        from stackctl.plan.target import partial_note

        lines.append("")
        if partial_note(plan):
            lines.append(str(partial_note(plan)))
        lines.append(plan.summary if plan.has_changes else
                     "No changes. The live configuration matches the manifests.")
    return "\n".join(lines)
