"""Targeted plans: ``--target ADDRESS`` (repeatable, globs) and ``--exclude ADDRESS``.

A targeted plan keeps the changes whose address a target matches, and what
they need: a stack its components, a component its custom flavor, anything in
a profile that profile's creation. ``--exclude`` drops changes; excluding a
change that a kept one needs is an error naming both. The plan records its
targets in its inputs, so a saved plan re-plans the same part and every view
can say that the plan is partial.
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

from stackctl.compiler.desired import DesiredState
from stackctl.errors import UsageError
from stackctl.model import Address
from stackctl.plan.model import Change, Plan


class TargetError(UsageError):
    """Targets that match nothing, or an exclusion that a target needs."""

    rule = "target"


def _matches(address: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(address, p) for p in patterns)


def needs(change: Change, desired: DesiredState) -> list[Address]:
    """What applying ``change`` needs applied with it (its dependencies)."""
    key = change.key
    if change.action == "delete" or key.profile is None:
        return []
    profile_key = Address.of_profile(key.profile)
    # a renamed object (a profile too) needs its rename, whose address is the old name;
    # everything in a renamed profile needs the profile's rename
    found = [move.source for move in desired.moves if move.target in (key, profile_key)]
    if key.kind == "profile":
        return found
    found.append(profile_key)
    profile = desired.profiles.get(key.profile)
    if profile is None:
        return found
    if key.kind == "stack":
        stack = profile.stacks.get(key.name)
        if stack is not None:
            found.extend(Address.component(key.profile, t, n)
                         for t, n in stack.components.items())
    if key.kind == "component" and key.type is not None:
        component = profile.components.get((key.type, key.name))
        if component is not None and (key.type, component.flavor) in profile.flavors:
            found.append(Address.flavor(key.profile, key.type, component.flavor))
    return found


def narrow(plan: Plan, desired: DesiredState, targets: tuple[str, ...],
           excludes: tuple[str, ...]) -> Plan:
    """The part of ``plan`` the targets (default: everything) and exclusions select."""
    if not targets and not excludes:
        return plan
    by_address = {c.address: c for c in plan.changes}
    if targets:
        unmatched = [t for t in targets if not any(fnmatchcase(a, t) for a in by_address)]
        if unmatched:
            raise TargetError(f"--target {', '.join(unmatched)} matches no resource of the "
                              "plan.", hint="Addresses look like profile/NAME, PROFILE/stack/"
                              "NAME, PROFILE/<component_type>/NAME; globs are allowed.")
        chosen = [a for a in by_address if _matches(a, targets)]
    else:
        chosen = list(by_address)
    kept: set[str] = set()
    pending = [a for a in chosen if not _matches(a, excludes)]
    while pending:
        address = pending.pop()
        if address in kept:
            continue
        kept.add(address)
        for dependency in needs(by_address[address], desired):
            dep = str(dependency)
            change = by_address.get(dep)
            if change is None or change.action == "no-op":
                continue  # nothing to apply: already live as the manifests say
            if _matches(dep, excludes):
                raise TargetError(f"{address} needs {dep}, which --exclude leaves out.",
                                  hint=f"Drop the --exclude that matches {dep}, or target "
                                       f"less than {address}.")
            pending.append(dep)
    # what follows a kept rename (a repository whose active stack or profile it renames)
    # goes with it: else it would name what no longer exists
    follows = {f"follows the rename of {a}" for a in kept
               if by_address[a].action == "rename"}
    kept.update(c.address for c in plan.changes
                if follows.intersection(c.impact) and not _matches(c.address, excludes))
    changes = tuple(c for c in plan.changes if c.address in kept)
    inputs = {**plan.inputs, "targets": list(targets), "excludes": list(excludes)}
    return replace(plan, changes=changes, inputs=inputs)


def partial_note(plan: Plan) -> str | None:
    """The line that says a plan is partial, or None for a whole plan."""
    targets = plan.inputs.get("targets") or []
    excludes = plan.inputs.get("excludes") or []
    if not targets and not excludes:
        return None
    parts = []
    if targets:
        parts.append(f"only --target {', '.join(targets)} and what they need")
    if excludes:
        parts.append(f"without --exclude {', '.join(excludes)}")
    return "Partial plan: " + "; ".join(parts) + "."
