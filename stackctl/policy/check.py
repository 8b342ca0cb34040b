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
    live_exemptions = {p.name: [e for e in p.exemptions if e.expires and e.expires >= today]
                       for p, _, _ in compiled}
    exempting = {i for i, (p, _, _) in enumerate(compiled) if live_exemptions[p.name]}
    # Resources alike in what a match looks at get the same rules: decide once per kind.
    by_match: dict[tuple[Any, ...], tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for address, doc, obj in _objects(desired, default_profile):
        meta = obj["metadata"]
        spec = obj["spec"]
        labels = meta.get("labels")
        key = (obj["kind"], spec.get("type"), spec.get("flavor"), meta.get("profile"),
               tuple(sorted(labels.items())) if labels else ())
        found = by_match.get(key)
        if found is None:
            applicable = tuple(i for i, (_, rule, _) in enumerate(compiled)
                               if rule.match.applies(obj))
            found = by_match[key] = (applicable, tuple(compiled[i][2] for i in applicable))
        chosen, rule_ids = found
        if exempting:
            chosen = tuple(i for i in chosen if i not in exempting or not any(
                e.covers(address) for e in live_exemptions[compiled[i][0].name]))
            rule_ids = tuple(compiled[i][2] for i in chosen)
        old = old_objects.get(address) if old_objects is not None else None
        for position, outcome in engine.failures(rule_ids, obj, old):
            policy, rule, _ = compiled[chosen[position]]
            message = rule.message if outcome.error is None else (
                f"{rule.message} (the rule could not be evaluated: {outcome.error})")
            diagnostics.append(Diagnostic(doc.locate(("metadata", "name")),
                                          f"policy/{policy.name}", message,
                                          severity=SEVERITY[rule.severity]))
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


def _objects(desired: DesiredState,
             default_profile: str) -> Iterable[tuple[str, Document, dict[str, Any]]]:
    """(address, document, ``object``) for every resource the manifests declare."""
    types = {t.value: t for t in ComponentType}  # the enum's own lookup costs more
    for address, doc in desired.sources.items():
        data = doc.data
        kind = data["kind"]
        if kind == "Policy":
            continue
        meta = data["metadata"]
        spec = data.get("spec") or {}
        obj: dict[str, Any] = {"apiVersion": data["apiVersion"], "kind": kind,
                               "metadata": meta, "spec": spec, "address": address}
        # the profile a resource lives in, filled in (on a copy: documents stay as read)
        if kind in ("Component", "Stack", "Flavor") and not meta.get("profile"):
            meta = obj["metadata"] = {**meta, "profile": default_profile}
        elif kind == "Profile":
            meta = obj["metadata"] = {**meta, "profile": meta["name"]}
        if kind == "Component":
            profile = desired.profiles.get(meta["profile"])
            component = profile.components.get(
                (types[spec["type"]], meta["name"])) if profile else None
            if component is not None:  # with the flavor's defaults
                obj["spec"] = {**spec, "config": component.config}
        elif kind == "Stack":
            obj["flavors"] = _stack_flavors(desired, meta["profile"], spec["components"])
        yield address, doc, obj


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
