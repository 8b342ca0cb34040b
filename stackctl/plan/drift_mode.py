"""Drift modes: what a plan does with objects changed outside stackctl.

The project file's ``driftMode`` picks one: ``remediate`` (the default) plans to
put live back as the manifests say; ``refuse`` fails a plan that would revert or
overwrite an out-of-band change, naming each such address and the two ways out:
take the live value into the manifest or adopt it with ``--adopt ADDRESS`` (the
plan then records it, changing nothing live), or pass ``--force`` to revert. A
drifted object whose change touches none of its drifted fields (or that does not
change) is not refused.
"""

from __future__ import annotations

from dataclasses import replace

from stackctl.compiler.desired import DesiredState
from stackctl.errors import StackctlError
from stackctl.model import Address, Component, ComponentType
from stackctl.plan.live import Live
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
        hint="Either adopt the live value: --adopt ADDRESS, or set it in the manifest (the "
             "plan then records it and changes nothing live); or revert it: pass --force.")


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


class AdoptError(StackctlError):
    """``--adopt ADDRESS`` names nothing this plan can adopt."""

    rule = "adopt"


def adopt_live(desired: DesiredState, live: Live, plan: Plan,
               addresses: tuple[str, ...]) -> DesiredState:
    """``desired`` with each adopted address's drifted fields set to their live values.

    Planned again from it, an adopted object keeps its live values (other manifest
    changes still apply) and apply records them as last applied. The manifests are
    not edited: until they hold the live value too, a later plan changes it back.
    """
    drifted = {d.address: d for d in plan.drift if d.detail == "changed"}
    for address in addresses:
        if address not in drifted:
            known = ", ".join(sorted(drifted)) or "none"
            raise AdoptError(f"--adopt {address}: not an object changed outside stackctl in "
                             f"this plan (drifted: {known}).",
                             hint="See what drifted with `stackctl drift`.")
        key = Address.parse(address)
        if key.kind not in ("component", "stack") or not drifted[address].fields:
            raise AdoptError(f"--adopt {address}: only a component's or stack's drifted "
                             "fields can be adopted (with a last-applied record).",
                             hint="Set the live value in the manifest instead.")
    profiles = dict(desired.profiles)
    for address in addresses:
        key = Address.parse(address)
        assert key.profile is not None
        dp = profiles[key.profile] = replace(profiles[key.profile])
        state = live.profiles[key.profile].state
        assert state is not None  # drift was read from it
        paths = [f.path.split(".") for f in drifted[address].fields]
        if key.kind == "component":
            assert key.type is not None
            ckey = (key.type, key.name)
            dp.components = {**dp.components,
                             ckey: _with_live(dp.components[ckey], state.components[ckey],
                                              paths)}
        else:
            mine, theirs = dp.stacks[key.name], state.stacks[key.name]
            types = {ComponentType(p[1]) for p in paths if p[0] == "components" and len(p) > 1}
            merged = {t: n for t, n in mine.components.items() if t not in types}
            merged.update({t: theirs.components[t] for t in types if t in theirs.components})
            dp.stacks = {**dp.stacks, key.name: replace(mine, components=merged)}
    return replace(desired, profiles=profiles)


def _with_live(mine: Component, theirs: Component, paths: list[list[str]]) -> Component:
    config = dict(mine.config)
    flavor = mine.flavor
    for path in paths:
        if path == ["flavor"]:
            flavor = theirs.flavor
        elif path[0] == "config" and len(path) > 1:
            if path[1] in theirs.config:
                config[path[1]] = theirs.config[path[1]]
            else:
                config.pop(path[1], None)
    return replace(mine, flavor=flavor, config=config)
