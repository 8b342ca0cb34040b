"""Policy manifests as values: rules (expression, message, severity, match) and exceptions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from stackctl.compiler.load import Document

# Policy severities → diagnostic severities. audit is SARIF's "note": reported in
# JSON, markdown and SARIF, left out of text and GitHub annotations, never fails.
SEVERITY = {"deny": "error", "warn": "warning", "audit": "note"}


@dataclass(frozen=True)
class Match:
    kinds: frozenset[str] | None = None
    types: frozenset[str] | None = None
    flavors: frozenset[str] | None = None
    profiles: frozenset[str] | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def applies_to(self, kind: str, ctype: Any, flavor: Any, profile: str | None,
                   labels: dict[str, Any] | None) -> bool:
        """Whether the match takes a resource of this kind, type, flavor, profile
        (filled in) and labels."""
        return ((self.kinds is None or kind in self.kinds)
                and (self.types is None or ctype in self.types)
                and (self.flavors is None or flavor in self.flavors)
                and (self.profiles is None or profile in self.profiles)
                and all((labels or {}).get(k) == v for k, v in self.labels))


@dataclass(frozen=True)
class Rule:
    index: int  # position in spec.rules, for locating it
    expression: str
    message: str
    severity: str  # deny | warn | audit
    match: Match


@dataclass(frozen=True)
class Exemption:
    index: int  # position in spec.exceptions
    resources: tuple[str, ...]
    owner: str
    expires: dt.date | None  # None: not a real date (reported as an error)

    def covers(self, address: str) -> bool:
        return any(fnmatchcase(address, pattern) for pattern in self.resources)


@dataclass(frozen=True)
class Policy:
    name: str
    doc: Document
    rules: tuple[Rule, ...]
    exemptions: tuple[Exemption, ...] = field(default=())


def _set(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(str(v) for v in value)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def from_document(doc: Document) -> Policy:
    """A schema-valid Policy document as a Policy."""
    spec = doc.data["spec"]
    rules = []
    for i, raw in enumerate(spec["rules"]):
        match = raw.get("match") or {}
        rules.append(Rule(
            index=i, expression=raw["expression"], message=raw["message"],
            severity=raw.get("severity", "deny"),
            match=Match(kinds=_set(match.get("kinds")), types=_set(match.get("types")),
                        flavors=_set(match.get("flavors")),
                        profiles=_set(match.get("profiles")),
                        labels=tuple(sorted((match.get("labels") or {}).items())))))
    exemptions = tuple(
        Exemption(index=i, resources=tuple(raw["resources"]), owner=raw["owner"],
                  expires=_date(raw["expires"]))
        for i, raw in enumerate(spec.get("exceptions") or []))
    return Policy(doc.data["metadata"]["name"], doc, tuple(rules), exemptions)
