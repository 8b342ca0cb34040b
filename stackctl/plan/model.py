"""The plan as a value: changes by address, drift, reads; JSON round-trip.

A plan holds no secret value: views are redacted, and desired objects are
remembered only by a salted fingerprint, so a plan file is safe as a CI
artifact. ``FORMAT_VERSION`` versions the JSON form (documented in README).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from stackctl.model import Address

FORMAT_VERSION = 2  # 2: plan files carry a digest (stackctl.plan.saved)
# rename: a ``moved:`` entry; the change's address is the old one, ``after`` {"to": new}
ACTIONS = ("create", "update", "delete", "no-op", "rename")
# the rule of a plan note about a ``moved:`` entry (e.g. nothing to rename), kept beside
# the policy notes in ``Plan.policy`` but shown in a section of its own
MOVED_RULE = "moved"


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Change:
    # slots: a plan holds one Change per resource (110,000 no-ops in a no-op plan of
    # 100,000 components); an instance __dict__ cost ~250 bytes more each
    key: Address  # what changes; its kind and profile too
    action: str  # one of ACTIONS
    before: Mapping[str, Any] | None = None  # redacted view
    after: Mapping[str, Any] | None = None  # redacted view
    fields: tuple[FieldChange, ...] = ()
    adopt: bool = False  # live equals the manifest; stackctl's record of it is missing or stale
    impact: tuple[str, ...] = ()  # e.g. "stack 'prod' (globally active)"
    # str(key), asked many times per change by apply and the views
    address: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", str(self.key))

    @classmethod
    def of(cls, key: Address, action: str, before: Mapping[str, Any] | None,
           after: Mapping[str, Any] | None, fields: tuple[FieldChange, ...], adopt: bool,
           impact: tuple[str, ...], address: str) -> Change:
        """The Change the constructor makes, with ``address`` (``str(key)``, which the
        caller has) given; every field given. The planner makes one per resource
        (10,000 and more), so without the constructor's keyword handling."""
        change = object.__new__(cls)
        put = object.__setattr__
        put(change, "key", key)
        put(change, "action", action)
        put(change, "before", before)
        put(change, "after", after)
        put(change, "fields", fields)
        put(change, "adopt", adopt)
        put(change, "impact", impact)
        put(change, "address", address)
        return change

    @property
    def kind(self) -> str:  # component | stack | flavor | profile | repository | global
        return self.key.kind

    @property
    def profile(self) -> str | None:
        return self.key.profile

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["key"], data["address"]
        return {"address": self.address, "kind": self.kind, "profile": self.profile, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(key=Address.parse(data["address"]), action=data["action"],
                   before=data.get("before"), after=data.get("after"),
                   fields=tuple(FieldChange(**f) for f in data.get("fields", ())),
                   adopt=bool(data.get("adopt", False)), impact=tuple(data.get("impact", ())))


@dataclass(frozen=True)
class Drift:
    address: str
    detail: str  # "changed" | "deleted"
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Kept:
    """Fields of ``address`` changed outside stackctl that driftMode warn leaves as they are
    live: each ``old`` is the live value, ``new`` the manifests' (secrets redacted)."""

    address: str
    fields: tuple[FieldChange, ...]


def defaults_line(plan: Plan, profile: str) -> str:
    """The one line that stands for a new profile's default objects, in plans and applies."""
    found = plan.defaults_of(profile)
    return (f"{len(found)} default object{'s' * (len(found) != 1)} every new profile "
            f"starts with ({', '.join(Address.parse(a).in_profile for a in found)})")


@dataclass(frozen=True)
class Plan:
    id: str
    created_at: str
    inputs: Mapping[str, Any]
    stores: Mapping[str, Mapping[str, Any]]  # store key -> {lineage, serial}
    reads: Mapping[str, str | None]  # address -> fingerprint of the live object read
    desired_prints: Mapping[str, str]  # address -> salted fingerprint of the desired object
    changes: tuple[Change, ...]
    drift: tuple[Drift, ...] = ()
    unmanaged: tuple[str, ...] = ()
    prunable: tuple[str, ...] = ()  # managed, gone from manifests, kept without --prune
    # what a new profile's store is created with (its default stack) and the manifests
    # do not declare: created, so counted, but not listed one by one
    defaults: tuple[str, ...] = ()
    prune: bool = False
    format_version: int = FORMAT_VERSION
    # policy warnings and audit notes (file, line, column, severity, rule, message);
    # a denying policy stops the plan instead
    policy: tuple[Mapping[str, Any], ...] = ()
    # drifted fields driftMode warn keeps live (plan.drift_mode.kept_fields)
    kept: tuple[Kept, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        # "rename" only when there are renames: the JSON summary of other plans is unchanged
        counts = dict.fromkeys(ACTIONS[:4], 0)
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        counts["create"] += len(self.defaults)
        return counts

    @property
    def move_notes(self) -> tuple[Mapping[str, Any], ...]:
        """The notes about ``moved:`` entries (shown apart from the policy notes)."""
        return tuple(n for n in self.policy if n.get("rule") == MOVED_RULE)

    @property
    def policy_notes(self) -> tuple[Mapping[str, Any], ...]:
        """Policy warnings and audit notes, without the notes about moves."""
        return tuple(n for n in self.policy if n.get("rule") != MOVED_RULE)

    def defaults_of(self, profile: str) -> tuple[str, ...]:
        """The default objects a new ``profile``'s store is created with."""
        return tuple(a for a in self.defaults if Address.parse(a).profile == profile)

    @property
    def has_changes(self) -> bool:
        return any(c.action != "no-op" for c in self.changes)

    @property
    def summary(self) -> str:
        c = self.counts
        renames = f" {c['rename']} to rename." if c.get("rename") else ""
        return (f"Plan: {c['create']} to create, {c['update']} to update, "
                f"{c['delete']} to delete.{renames}")

    def to_dict(self) -> dict[str, Any]:
        # desired_prints may be computed as read (plan.compare.SaltedPrints): a plain dict
        data = asdict(replace(self, desired_prints={}))
        data["desired_prints"] = dict(self.desired_prints)
        data["changes"] = [c.to_dict() for c in self.changes]
        data["summary"] = {**self.counts, "text": self.summary,
                           "drift": len(self.drift), "unmanaged": len(self.unmanaged)}
        if self.kept:  # fields driftMode warn left live (other plans' summary is unchanged)
            data["summary"]["kept"] = sum(len(k.fields) for k in self.kept)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        from stackctl.errors import UsageError

        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise UsageError(f"Unsupported plan format version {version!r}.",
                             hint=f"This stackctl reads plan format {FORMAT_VERSION}.")
        changes = tuple(Change.from_dict(c) for c in data["changes"])
        drift = tuple(Drift(d["address"], d["detail"],
                            tuple(FieldChange(**f) for f in d.get("fields", ())))
                      for d in data.get("drift", ()))
        kept = tuple(Kept(k["address"], tuple(FieldChange(**f) for f in k.get("fields", ())))
                     for k in data.get("kept", ()))
        return cls(
            id=data["id"], created_at=data["created_at"], inputs=data["inputs"],
            stores=data["stores"], reads=data["reads"], desired_prints=data["desired_prints"],
            changes=changes, drift=drift, unmanaged=tuple(data.get("unmanaged", ())),
            prunable=tuple(data.get("prunable", ())), prune=bool(data.get("prune", False)),
            defaults=tuple(data.get("defaults", ())),
            format_version=version, policy=tuple(data.get("policy", ())), kept=kept,
        )
