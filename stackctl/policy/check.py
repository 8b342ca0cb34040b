"""Evaluate Policy manifests over the desired state: violations as located diagnostics.

A violation points at the violating resource's ``metadata.name``, with the
rule's message and the rule id ``policy/NAME``; a rule that does not compile
points into its expression; an expired exception is an error at its
``expires:``, so exceptions cannot rot silently (and no longer exempt).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from stackctl.compiler.desired import DesiredState
from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.load import Document
from stackctl.defaults import DEFAULT, DEFAULT_COMPONENTS
from stackctl.errors import Location
from stackctl.model import ComponentType
from stackctl.policy.engine import CelError, Engine
from stackctl.policy.model import SEVERITY, Policy, Rule, from_document

# The flavors of the default components every profile is created with
_IMPLICIT_FLAVORS = {ctype.value: flavor for ctype, flavor in DEFAULT_COMPONENTS}
# Kinds that live in a profile (the default one unless they name theirs)
_PROFILED = ("Component", "Stack", "Flavor")


def policy_documents(desired: DesiredState) -> list[Document]:
    """The Policy manifests of the desired state (none: nothing to check)."""
    return [d for a, d in desired.sources.items() if a.startswith("policy/")]


def check_policies(desired: DesiredState, default_profile: str,
                   old_objects: Mapping[str, dict[str, Any]] | None = None,
                   today: dt.date | None = None) -> list[Diagnostic]:
    """Every policy diagnostic; ``old_objects`` (address → live object) only in `plan`."""
    docs = policy_documents(desired)
    if not docs:
        return []  # no CEL runtime loaded for projects without policies
    today = today or dt.datetime.now(dt.timezone.utc).date()
    engine = Engine()
    diagnostics: list[Diagnostic] = []
    compiled: list[tuple[Policy, Rule, int]] = []
    for doc in docs:
        policy = from_document(doc)
        diagnostics.extend(_exception_problems(policy, today))
        for rule in policy.rules:
            try:
                compiled.append((policy, rule, engine.add(rule.expression)))
            except CelError as exc:
                diagnostics.append(Diagnostic(
                    _in_expression(doc, rule, exc), f"policy/{policy.name}",
                    f"invalid CEL expression: {exc.message}",
                    hint="Rules see `object` (the manifest) and `oldObject` (live, or null)."))
    if not compiled:
        return diagnostics
    live_exemptions = {p.name: [e for e in p.exemptions if e.expires and e.expires >= today]
                       for p, _, _ in compiled}
    exempting = {i for i, (p, _, _) in enumerate(compiled) if live_exemptions[p.name]}
    # Resources alike in what a match looks at get the same rules: decide once per
    # kind of resource, and build the ``object`` of a resource only if a rule applies.
    with_labels = any(rule.match.labels for _, rule, _ in compiled)
    by_match: dict[tuple[Any, ...], tuple[int, ...]] = {}
    # rule set → the resources it applies to (their place in ``found``'s order)
    groups: dict[tuple[int, ...], list[int]] = {}
    resources: list[tuple[Document, dict[str, Any]]] = []
    olds: dict[int, dict[str, Any]] = {}  # resource → its live object (`plan` only)
    types = {t.value: t for t in ComponentType}  # the enum's own lookup costs more
    components = {name: p.components for name, p in desired.profiles.items()}
    for address, doc in desired.sources.items():
        data = doc.data
        kind = data["kind"]
        if kind == "Policy":
            continue
        meta = data["metadata"]
        spec = data.get("spec") or {}
        ctype = spec.get("type")
        profile = meta["name"] if kind == "Profile" else (meta.get("profile") or (
            default_profile if kind in _PROFILED else None))
        labels = meta.get("labels") if with_labels else None
        key = (kind, ctype, spec.get("flavor"), profile,
               tuple(sorted(labels.items())) if labels else ())
        chosen = by_match.get(key)
        if chosen is None:
            chosen = by_match[key] = tuple(
                i for i, (_, rule, _) in enumerate(compiled)
                if rule.match.applies_to(kind, ctype, spec.get("flavor"), profile,
                                         meta.get("labels")))
        if exempting and chosen:
            chosen = tuple(i for i in chosen if i not in exempting or not any(
                e.covers(address) for e in live_exemptions[compiled[i][0].name]))
        if not chosen:
            continue
        # The ``object`` a rule sees: the manifest, with the profile it lives in filled
        # in (on a copy: documents stay as read), a component's config with its
        # flavor's defaults, a stack's component flavors.
        if profile is not None and meta.get("profile") != profile:
            meta = {**meta, "profile": profile}
        obj = {"apiVersion": data["apiVersion"], "kind": kind, "metadata": meta,
               "spec": spec, "address": address}
        if kind == "Component":
            in_profile = components.get(profile) if profile else None
            component = in_profile.get((types[spec["type"]], meta["name"])) if in_profile else None
            if component is not None:
                obj["spec"] = {**spec, "config": component.config}
        elif kind == "Stack":
            obj["flavors"] = _stack_flavors(desired, profile or "", spec["components"])
        if old_objects is not None and address in old_objects:
            olds[len(resources)] = old_objects[address]
        groups.setdefault(chosen, []).append(len(resources))
        resources.append((doc, obj))
    found: list[tuple[int, int, Diagnostic]] = []
    for chosen, members in groups.items():
        rule_ids = tuple(compiled[i][2] for i in chosen)
        # without an oldObject (validate; creations in a plan): in chunks
        fresh = [m for m in members if m not in olds]
        outcomes = [(fresh[k], position, outcome) for k, position, outcome in
                    engine.failures_many(rule_ids, [resources[m][1] for m in fresh])]
        for m in members:
            if m in olds:
                outcomes.extend((m, position, outcome) for position, outcome in
                                engine.failures(rule_ids, resources[m][1], olds[m]))
        for m, position, outcome in outcomes:
            policy, rule, _ = compiled[chosen[position]]
            message = rule.message if outcome.error is None else (
                f"{rule.message} (the rule could not be evaluated: {outcome.error})")
            found.append((m, position, Diagnostic(
                resources[m][0].locate(("metadata", "name")), f"policy/{policy.name}", message,
                severity=SEVERITY[rule.severity])))
    found.sort(key=lambda f: (f[0], f[1]))
    diagnostics.extend(d for _, _, d in found)
    return diagnostics


def _exception_problems(policy: Policy, today: dt.date) -> Iterable[Diagnostic]:
    for exemption in policy.exemptions:
        where = policy.doc.locate(("spec", "exceptions", exemption.index, "expires"))
        raw = policy.doc.data["spec"]["exceptions"][exemption.index]["expires"]
        names = ", ".join(exemption.resources)
        if exemption.expires is None:
            yield Diagnostic(where, f"policy/{policy.name}",
                             f"exception expiry {raw!r} is not a date")
        elif exemption.expires < today:
            yield Diagnostic(where, f"policy/{policy.name}",
                             f"exception for {names} (owner: {exemption.owner}) expired on "
                             f"{exemption.expires.isoformat()}",
                             hint="Renew it with a later `expires:` date, or remove it and "
                                  "fix the resources.")


def _in_expression(doc: Document, rule: Rule, exc: CelError) -> Location:
    """The place of a CEL error in the manifest: exact for a one-line plain or quoted
    expression, else the start of the expression's value."""
    where = doc.locate(("spec", "rules", rule.index, "expression"))
    lines = doc.text.splitlines() if doc.text else []
    if exc.line != 1 or not 0 < where.line <= len(lines):
        return where
    source = lines[where.line - 1][where.column - 1:]
    if source.startswith(rule.expression):
        return Location(where.path, where.line, where.column + exc.column - 1)
    if source[:1] in "'\"" and source[1:].startswith(rule.expression):
        return Location(where.path, where.line, where.column + exc.column)
    return where


def _stack_flavors(desired: DesiredState, profile_name: str,
                   slots: Mapping[str, str]) -> dict[str, str]:
    """Component type → flavor of the component a stack names, where known."""
    profile = desired.profiles.get(profile_name)
    flavors: dict[str, str] = {}
    for ctype, name in slots.items():
        component = profile.components.get((ComponentType(ctype), name)) if profile else None
        if component is not None:
            flavors[ctype] = component.flavor
        elif name == DEFAULT and ctype in _IMPLICIT_FLAVORS:
            flavors[ctype] = _IMPLICIT_FLAVORS[ctype]
    return flavors
