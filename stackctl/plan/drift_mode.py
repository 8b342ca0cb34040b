"""Drift modes: what a plan does with objects changed outside stackctl.

The project file's ``driftMode`` picks one, and a Profile manifest's
``spec.driftMode`` overrides it for that profile's objects and settings:
``remediate`` (the default) plans to put live back as the manifests say;
``warn`` leaves each drifted field as it is live — the change omits it, an object
whose only changes are drifted fields is a no-op — and the plan lists those fields
(``Plan.kept``) until they are resolved; ``refuse`` fails a plan that would revert or
overwrite an out-of-band change, naming each such address and the two ways out:
take the live value into the manifest or adopt it with ``--adopt ADDRESS`` (the plan
then records it, changing nothing live), or pass ``--force`` to revert (under warn
too). A drifted object whose change touches none of its drifted fields (or that does
not change) is neither refused nor kept.

What warn keeps is not recorded as applied: apply writes the other fields and records
the manifests' values of the kept ones as last applied (``recorded_view``), so the
next plan sees the same drift, keeps it again and says so, until the manifest takes the
live value, ``--adopt`` records it, or ``--force`` reverts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from stackctl.compiler.desired import DesiredState
from stackctl.errors import StackctlError
from stackctl.model import Address, Component, ComponentType
from stackctl.plan.live import Live
from stackctl.plan.model import Change, Drift, Kept, Plan

MODES = ("remediate", "warn", "refuse")
DEFAULT_MODE = "remediate"
# the fields of a kind that warn can keep and --adopt can take (dotted path heads)
KEEPABLE = {"component": ("flavor", "config"), "stack": ("components",),
            "flavor": ("source", "configSchema"), "profile": ("active_stack",),
            "repository": ("active_profile", "active_stack"), "global": ("active_profile",)}


def profile_modes(desired: DesiredState) -> dict[str, str]:
    """profile -> the driftMode its Profile manifest sets (only those that set one)."""
    return {name: dp.settings.drift_mode for name, dp in sorted(desired.profiles.items())
            if dp.settings is not None and dp.settings.drift_mode}


def mode_of(address: str, project_mode: str, profiles: Mapping[str, str]) -> str:
    """The drift mode of ``address``: its profile's, else the project's."""
    profile = Address.parse(address).profile
    return profiles.get(profile, project_mode) if profile is not None else project_mode


def _source(address: str, profiles: Mapping[str, str]) -> str:
    profile = Address.parse(address).profile
    return f"profile/{profile}" if profile in profiles else "stackctl.yaml"


class DriftRefusedError(StackctlError):
    """driftMode is refuse and the plan would revert changes made outside stackctl."""

    rule = "drift-mode"


def check_drift_mode(plan: Plan, mode: str, force: bool,
                     profiles: Mapping[str, str] | None = None) -> None:
    """Raise DriftRefusedError, unless ``force``, when the plan reverts or overwrites a
    drifted object whose mode (``profiles``' override, else ``mode``) is refuse — or is
    warn but the change cannot leave the drifted fields alone (a deleted object, one
    without a last-applied record, a replacement)."""
    profiles = profiles or {}
    refused = refusals(plan, mode, force, profiles)
    if not refused:
        return
    why = sorted({f"{m} ({_source(d.address, profiles)})" for d, _, m in refused})
    lines = "\n".join(f"  {d.address}: {_what(d, c)}"
                      + ("; warn keeps changed fields only, not this" if m == "warn" else "")
                      for d, c, m in refused)
    raise DriftRefusedError(
        f"driftMode is {' and '.join(why)} and the plan would undo changes made outside "
        f"stackctl to {len(refused)} object{'s' * (len(refused) != 1)}; nothing was planned "
        f"or applied:\n{lines}",
        hint="Either adopt the live value: --adopt ADDRESS, or set it in the manifest (the "
             "plan then records it and changes nothing live); or revert it: pass --force.")


def refusals(plan: Plan, mode: str, force: bool,
             profiles: Mapping[str, str]) -> list[tuple[Drift, Change, str]]:
    """Each drifted object the plan would revert or overwrite that its mode refuses (or
    that warn cannot keep field by field), with its change and mode; none under ``force``."""
    if force or (mode == DEFAULT_MODE and not any(m != DEFAULT_MODE
                                                  for m in profiles.values())):
        return []
    changes = {c.address: c for c in plan.changes}
    refused = [(d, changes[d.address], mode_of(d.address, mode, profiles)) for d in plan.drift
               if d.address in changes and _reverts(d, changes[d.address])]
    return [(d, c, m) for d, c, m in refused
            if m == "refuse" or (m == "warn" and not _keepable(d, c))]


# What the next plan does with each drifted object (``drift_outcomes``): reverts (or
# overwrites) it, keeps it live (warn), refuses to plan (refuse, or what warn cannot keep),
# or leaves it (its change touches no drifted field: e.g. the manifest took the live value).
OUTCOMES = ("reverted", "kept", "refused", "untouched")


def drift_outcomes(plan: Plan, mode: str, force: bool,
                   profiles: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """address -> (its drift mode, OUTCOME) for each drifted object of ``plan`` (planned
    with what warn keeps already left live and ``Plan.kept`` set): what ``diff`` and the
    drift report say of it, so a warned or refused drift is never shown as reverted."""
    changes = {c.address: c for c in plan.changes}
    kept = {k.address for k in plan.kept}
    refused = {d.address for d, _, _ in refusals(plan, mode, force, profiles)}
    out: dict[str, tuple[str, str]] = {}
    for drift in plan.drift:
        change = changes.get(drift.address)
        outcome = ("kept" if drift.address in kept else "refused" if drift.address in refused
                   else "reverted" if change is not None and _reverts(drift, change)
                   else "untouched")
        out[drift.address] = (mode_of(drift.address, mode, profiles), outcome)
    return out


def _keepable(drift: Drift, change: Change) -> bool:
    """warn can leave the drifted fields of this change alone, field by field."""
    heads = KEEPABLE.get(change.kind, ())
    keepable = (drift.detail == "changed" and bool(drift.fields) and change.action == "update"
                and all(f.path.split(".")[0] in heads for f in drift.fields))
    if keepable and change.kind == "repository":
        # a repository's active profile and stack are a pair: keeping one live while the
        # other changes could name a stack its profile does not have
        drifted = {f.path for f in drift.fields}
        touched = {f.path for f in change.fields}
        return not (touched & drifted and touched - drifted)
    return keepable


def kept_fields(plan: Plan, mode: str, force: bool,
                profiles: Mapping[str, str] | None = None) -> tuple[Kept, ...]:
    """Under warn (not ``force``d): each drifted object's fields the plan would revert or
    overwrite, live value (``old``) and manifest value (``new``)."""
    profiles = profiles or {}
    if force:
        return ()
    changes = {c.address: c for c in plan.changes}
    kept = []
    for drift in plan.drift:
        change = changes.get(drift.address)
        if (change is None or mode_of(drift.address, mode, profiles) != "warn"
                or not _keepable(drift, change)):
            continue
        drifted = {f.path for f in drift.fields}
        touched = tuple(f for f in change.fields if f.path in drifted)
        if touched:
            kept.append(Kept(drift.address, touched))
    return tuple(kept)


def with_kept(plan: Plan, kept: tuple[Kept, ...]) -> Plan:
    """``plan`` (computed with the kept fields' live values as desired) saying what it
    keeps; a kept object that became a no-op is not "now managed": its drift stays."""
    addresses = {k.address for k in kept}
    planned = {c.address for c in plan.changes}
    changes = tuple(replace(c, adopt=False) if c.address in addresses else c
                    for c in plan.changes)
    return replace(plan, changes=changes,
                   kept=tuple(k for k in kept if k.address in planned))


def recorded_view(written: Mapping[str, Any], kept: Kept | None,
                  manifest: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """What apply records as last applied for an object written with ``kept`` fields left
    live: ``written`` with the manifests' value of each kept field (from ``manifest``,
    the manifests' view, else the kept field's own ``new``: never a secret there), so
    the next plan sees the same drift again."""
    if kept is None:
        return written
    out = _copy(written)
    for field in kept.fields:
        full = field.path.split(".")
        path = _kept_path(written, full)
        value = (_lookup(manifest, path) if manifest is not None
                 else field.new if path == full else _MISSING)
        _store(out, path, value)
    return out


def _kept_path(view: Mapping[str, Any], path: list[str]) -> list[str]:
    """The part of a drifted ``path`` warn keeps as a whole: down to a mapping key, and
    a list (its items have no keys; an item's path is its position) kept whole."""
    node: Any = view
    for depth, part in enumerate(path):
        if not isinstance(node, Mapping):
            return path[:depth]
        node = node.get(part)
    return path


_MISSING = object()


def _copy(view: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, Mapping) else v for k, v in view.items()}


def _lookup(view: Mapping[str, Any], path: list[str]) -> Any:
    node: Any = view
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _store(view: dict[str, Any], path: list[str], value: Any) -> None:
    from stackctl.plan.compare import ABSENT

    node = view
    for part in path[:-1]:
        node = node.setdefault(part, {})
    if value is _MISSING or value == ABSENT:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


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
    Components, stacks, flavors, a profile's active stack, a repository's and the
    global active settings can be adopted.
    """
    drifted = {d.address: d for d in plan.drift if d.detail == "changed"}
    for address in addresses:
        if address not in drifted:
            known = ", ".join(sorted(drifted)) or "none"
            raise AdoptError(f"--adopt {address}: not an object changed outside stackctl in "
                             f"this plan (drifted: {known}).",
                             hint="See what drifted with `stackctl drift`.")
        heads = KEEPABLE.get(Address.parse(address).kind, ())
        fields = drifted[address].fields
        if not fields or any(f.path.split(".")[0] not in heads for f in fields):
            raise AdoptError(f"--adopt {address}: only drifted fields known from a "
                             "last-applied record can be adopted (of a component, stack, "
                             "flavor, a profile's active stack, a repository's or the "
                             "global active settings).",
                             hint="Set the live value in the manifest instead.")
    return keep_live(desired, live, {a: [f.path for f in drifted[a].fields] for a in addresses})


def keep_live(desired: DesiredState, live: Live,
              paths_of: Mapping[str, list[str]]) -> DesiredState:
    """``desired`` with these fields (address -> dotted paths) set to their live values:
    one rule for ``--adopt`` and for what driftMode warn keeps."""
    profiles = dict(desired.profiles)
    repositories = dict(desired.repositories)
    active_profile = desired.active_profile
    for address, dotted in paths_of.items():
        key = Address.parse(address)
        paths = [p.split(".") for p in dotted]
        if key.kind == "global":
            active_profile = live.config.activated_profile
            continue
        if key.kind == "repository":
            mine_r, theirs_r = repositories[key.name], live.repositories[key.name]
            assert theirs_r is not None  # drift was read from it
            heads = {p[0] for p in paths}
            repositories[key.name] = replace(
                mine_r,
                active_profile=(theirs_r.active_profile_name if "active_profile" in heads
                                 else mine_r.active_profile),
                active_stack=(theirs_r.active_stack_name if "active_stack" in heads
                              else mine_r.active_stack))
            continue
        assert key.profile is not None
        dp = profiles[key.profile] = replace(profiles[key.profile])
        if key.kind == "profile":
            cfg = live.profiles[key.profile].config
            if dp.settings is not None and cfg is not None:
                dp.settings = replace(dp.settings, active_stack=cfg.active_stack)
            continue
        state = live.profiles[key.profile].state
        assert state is not None  # drift was read from it
        if key.kind == "component":
            assert key.type is not None
            ckey = (key.type, key.name)
            dp.components = {**dp.components,
                             ckey: _with_live(dp.components[ckey], state.components[ckey],
                                              paths)}
        elif key.kind == "flavor":
            fkey = key.key
            mine_f, theirs_f = dp.flavors[fkey], state.flavors[fkey]
            heads = {p[0] for p in paths}
            dp.flavors = {**dp.flavors, fkey: replace(
                mine_f, source=theirs_f.source if "source" in heads else mine_f.source,
                config_schema=(theirs_f.config_schema if "configSchema" in heads
                               else mine_f.config_schema))}
        else:
            mine, theirs = dp.stacks[key.name], state.stacks[key.name]
            types = {ComponentType(p[1]) for p in paths if p[0] == "components" and len(p) > 1}
            merged = {t: n for t, n in mine.components.items() if t not in types}
            merged.update({t: theirs.components[t] for t in types if t in theirs.components})
            dp.stacks = {**dp.stacks, key.name: replace(mine, components=merged)}
    return replace(desired, profiles=profiles, repositories=repositories,
                   active_profile=active_profile)


def _with_live(mine: Component, theirs: Component, paths: list[list[str]]) -> Component:
    config: Mapping[str, Any] = mine.config
    flavor = mine.flavor
    for path in paths:
        if path == ["flavor"]:
            flavor = theirs.flavor
        elif path[0] == "config" and len(path) > 1:
            config = _with_live_at(config, theirs.config, path[1:])
    return replace(mine, flavor=flavor, config=dict(config))


def _with_live_at(mine: Mapping[str, Any], theirs: Mapping[str, Any],
                  path: list[str]) -> Mapping[str, Any]:
    """``mine`` with the value at the mapping-key ``path`` (never empty) taken from
    ``theirs`` (removed where it has none): only that nested key, its siblings stay as the
    manifest says. Below a list, or where one side is no mapping, the value is taken whole
    (as ``_kept_path`` records it)."""
    head, rest = path[0], path[1:]
    out = dict(mine)
    if head not in theirs:
        out.pop(head, None)
    elif rest and isinstance(mine.get(head), Mapping) and isinstance(theirs[head], Mapping):
        out[head] = _with_live_at(mine[head], theirs[head], rest)
    else:
        out[head] = theirs[head]
    return out
