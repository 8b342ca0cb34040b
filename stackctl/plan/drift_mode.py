"""Drift modes: what a plan does with objects changed outside stackctl.

The project file's ``driftMode`` picks one: ``remediate`` (the default) plans to
put live back as the manifests say; ``refuse`` fails a plan that would revert or
overwrite an out-of-band change, naming each such address and the two ways out:
take the live value into the manifest (the plan then records it, changing nothing
live), or pass ``--force`` to revert. A drifted object whose change touches none of
its drifted fields (or that does not change) is not refused.
"""

from __future__ import annotations

from stackctl.errors import StackctlError
from stackctl.plan.model import Change, Drift, Plan

MODES = ("remediate", "refuse")
DEFAULT_MODE = "remediate"


class DriftRefusedError(StackctlError):
    """driftMode is refuse and the plan would revert changes made outside stackctl."""

    rule = "drift-mode"


def check_drift_mode(plan: Plan, mode: str, force: bool) -> None:
    """Raise DriftRefusedError when ``mode`` is refuse, not ``force``d, and the plan
    reverts or overwrites a drifted object."""
    if mode != "refuse" or force:
        return
    changes = {c.address: c for c in plan.changes}
    refused = [(d, changes[d.address]) for d in plan.drift
               if d.address in changes and _reverts(d, changes[d.address])]
    if not refused:
        return
    lines = "\n".join(f"  {d.address}: {_what(d, c)}" for d, c in refused)
    raise DriftRefusedError(
        f"driftMode is refuse (stackctl.yaml) and the plan would undo changes made outside "
        f"stackctl to {len(refused)} object{'s' * (len(refused) != 1)}; nothing was planned "
        f"or applied:\n{lines}",
        hint="Either adopt the live value: set it in the manifest (the plan then records it "
             "and changes nothing live); or revert it: pass --force.")


def _reverts(drift: Drift, change: Change) -> bool:
    if change.action == "no-op":
        return False
    if drift.detail != "changed" or not drift.fields or change.action != "update":
        return True  # re-created, deleted, or no record to tell which fields drifted
    drifted = {f.path for f in drift.fields}
    return any(f.path in drifted for f in change.fields)


def _what(drift: Drift, change: Change) -> str:
    if drift.detail == "deleted":
        return f"deleted outside stackctl; the plan would {change.action} it"
    drifted = {f.path: f.new for f in drift.fields}
    touched = [f for f in change.fields if f.path in drifted]
    if not touched:
        return f"changed outside stackctl; the plan would {change.action} it"
    return "; ".join(f"{f.path} is {f.old!r} live (set outside stackctl), the plan would "
                     f"make it {f.new!r}" for f in touched)
