"""The human view of a plan (and of a diff): one line per change, field diffs below."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stackctl.flavors import SENSITIVE
from stackctl.model import Address
from stackctl.plan.model import Change, Drift, Plan, defaults_line

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "no-op": "=", "rename": "~"}
COLORS = {"create": "green", "update": "yellow", "delete": "red", "no-op": "white",
          "rename": "yellow"}


def _value(value: Any) -> str:
    if value is None:  # most unset config fields: json.dumps costs µs a line
        return "null"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def change_lines(change: Change, plan: Plan | None = None) -> list[str]:
    """One change; with its ``plan``, also what applying does to each field of it changed
    outside stackctl (the plan's drift: last applied → live)."""
    drifted = _drifted(plan, change.address)
    if change.action == "rename":  # ~ rename default/orchestrator/old → new
        target = Address.parse(str((change.after or {}).get("to")))
        after = change.after or {}
        return [f"~ rename {change.address} → {target.name}"
                + ("  (only stackctl's record: deleted outside stackctl)"
                   if after.get("record_only") else ""),
                *([f"      store_url: {(change.before or {}).get('store_url')} → "
                   f"{after['store_url']}"] if "store_url" in after else []),
                *([f"      stacks following it: {', '.join(change.impact)}"]
                  if change.impact else [])]
    lines = [f"{SYMBOLS[change.action]} {change.action:<6} {change.address}"
             + ("  (now managed by stackctl)" if change.adopt else "")]
    if change.action == "create" and change.after:
        for key, value in _flatten(change.after):
            lines.append(f"      {key}: {_value(value)}")
    if (plan is not None and change.kind == "profile" and change.action == "create"
            and change.profile and plan.defaults_of(change.profile)):
        lines.append(f"      + {defaults_line(plan, change.profile)}")
    for field in change.fields:
        lines.append(f"      {field.path}: {_value(field.old)} → {_value(field.new)}"
                     + (_three_way(drifted[field.path], field.new)
                        if field.path in drifted else ""))
    if change.impact:
        lines.append(f"      used by: {', '.join(change.impact)}")
    return lines


def _drifted(plan: Plan | None, address: str) -> Mapping[str, Any]:
    """path → last-applied value, of the fields of ``address`` that drifted."""
    for drift in plan.drift if plan is not None else ():
        if drift.address == address:
            return {f.path: f.old for f in drift.fields}
    return {}


def _three_way(last_applied: Any, desired: Any) -> str:
    """Last applied vs manifests, for a field live changed: back, or on to a new value."""
    if desired == SENSITIVE:  # two secrets compare only by their sealed records
        return "  (also changed outside stackctl)"
    if desired == last_applied:
        return "  (reverts a change made outside stackctl)"
    return "  (overwrites a change made outside stackctl)"


def drift_lines(drift: Drift, indent: str = "",
                outcome: tuple[str, str] | None = None) -> list[str]:
    """One drifted resource; below it each field changed outside stackctl, last applied → live.

    Without fields (bookkeeping from before last-applied records, or a change only a
    fingerprint can see, such as a password inside a URL) it says just "changed".
    With its ``outcome`` (drift mode, what the plan does: plan.drift_mode.OUTCOMES), a
    drift that plan keeps live or refuses to revert says so.
    """
    lines = [f"{indent}! {drift.address}: {drift.detail}" + _outcome_note(outcome)]
    for field in drift.fields:
        lines.append(f"{indent}      {field.path}: {_value(field.old)} → {_value(field.new)}")
    return lines


def _outcome_note(outcome: tuple[str, str] | None) -> str:
    mode, what = outcome or ("", "")
    if what == "kept":
        return f"  (left as is: driftMode {mode})"
    if what == "refused":
        return f"  (plan and apply refuse to revert it: driftMode {mode})"
    return ""


def refused_lines(plan: Plan, outcomes: Mapping[str, tuple[str, str]]) -> list[str]:
    """The drifted objects plan and apply refuse to revert (driftMode refuse, or what warn
    cannot keep), and how to resolve it (empty when none)."""
    refused = [d.address for d in plan.drift if outcomes.get(d.address, ("", ""))[1] ==
               "refused"]
    if not refused:
        return []
    return [f"Refused by the drift mode (plan and apply fail until resolved): {len(refused)}",
            *(f"  ! {a}  (driftMode {outcomes[a][0]})" for a in refused), f"  {KEPT_HINT}"]


KEPT_HINT = ("To resolve: set the live value in the manifest or adopt it (--adopt ADDRESS), "
             "or revert it (--force).")


def kept_lines(plan: Plan) -> list[str]:
    """What driftMode warn leaves as it is live: per address and field, live vs manifest,
    and how to resolve it (empty when nothing was kept)."""
    if not plan.kept:
        return []
    count = sum(len(k.fields) for k in plan.kept)
    lines = [f"Changed outside stackctl and left as is (driftMode warn): {count} "
             f"field{'s' * (count != 1)}"]
    for kept in plan.kept:
        lines.append(f"  ! {kept.address}")
        lines.extend(f"      {f.path}: {_value(f.old)} live, the manifest says {_value(f.new)}"
                     for f in kept.fields)
    lines.append(f"  {KEPT_HINT}")
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


def render(plan: Plan, *, color: bool = False, diff_only: bool = False,
           outcomes: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The plan for people; ``diff_only``: changes, drift and what is kept only (``diff``);
    ``outcomes`` (``diff``): what the drift modes do with each drifted object."""
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
        for d in plan.drift:
            lines.extend(drift_lines(d, "  ", (outcomes or {}).get(d.address)))
    if plan.kept:
        lines.append("")
        lines.extend(kept_lines(plan))
    if refused_lines(plan, outcomes or {}):
        lines.append("")
        lines.extend(refused_lines(plan, outcomes or {}))
    if plan.move_notes:
        lines.append("")
        lines.append("Renames (moved:):")
        lines.extend(f"  note: {n['file']}:{n['line']}:{n['column']}: {n['message']}"
                     for n in plan.move_notes)
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
                     "No changes. Fields changed outside stackctl are left as they are "
                     "(driftMode warn, above)." if plan.kept else
                     "No changes. The live configuration matches the manifests.")
    return "\n".join(lines)
