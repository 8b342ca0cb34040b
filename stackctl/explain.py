"""``stackctl explain`` and ``schema show``: find a kind's or flavor's schema; list its fields.

Like ``kubectl explain``: the fields of a manifest kind (``Stack``) or of a
flavor's config (``artifact_store/s3``, or ``s3`` when only one type has it),
with their types, defaults, required marks and which are secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackctl.errors import UsageError


@dataclass(frozen=True)
class Field:
    path: str
    type: str
    required: bool
    secret: bool
    description: str
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class Explanation:
    target: str  # "Stack", "artifact_store/s3"
    what: str  # "kind" or "flavor"
    description: str
    schema: Mapping[str, Any]
    fields: tuple[Field, ...]


def find_schema(name: str) -> tuple[str, str, Mapping[str, Any]]:
    """(target, "kind" | "flavor", JSON Schema) for a kind, TYPE/FLAVOR or unique FLAVOR."""
    from stackctl import flavors
    from stackctl.compiler.schemas import KINDS, manifest_schema
    from stackctl.model import ComponentType

    kinds = {k.lower(): k for k in (*KINDS, "project")}
    if name.lower() in kinds:
        kind = kinds[name.lower()]
        return kind, "kind", manifest_schema(kind)
    builtin = flavors.builtin_flavors()
    types = [t.value for t in ComponentType]
    ctype, slash, flavor = name.partition("/")
    if slash:
        match = [f for (t, n), f in builtin.items() if t.value == ctype and n == flavor]
    else:
        match = [f for (_, n), f in builtin.items() if n == name]
        if not match and name in types:
            names = sorted(n for (t, n) in builtin if t.value == name)
            raise UsageError(f"'{name}' is a component type; name one of its flavors.",
                             hint=f"For example: {', '.join(f'{name}/{n}' for n in names)}.")
    if len(match) == 1:
        found = match[0]
        return f"{found.type.value}/{found.name}", "flavor", found.schema
    if len(match) > 1:
        options = ", ".join(sorted(f"{f.type.value}/{f.name}" for f in match))
        raise UsageError(f"Flavor '{name}' exists for several component types.",
                         hint=f"Name one: {options}.")
    raise UsageError(f"Unknown kind or flavor '{name}'.",
                     hint=f"Kinds: {', '.join(kinds.values())}. Flavors: TYPE/FLAVOR, e.g. "
                     "artifact_store/s3 (`stackctl flavor list` shows them).")


def explain(name: str) -> Explanation:
    target, what, schema = find_schema(name)
    return Explanation(target, what, str(schema.get("description", "")), schema,
                       tuple(_fields(schema, "")))


def _fields(schema: Mapping[str, Any], prefix: str) -> list[Field]:
    required = set(schema.get("required", []))
    found: list[Field] = []
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{key}"
        found.append(Field(
            path=path, type=_type(sub), required=key in required,
            secret=sub.get("writeOnly") is True, description=str(sub.get("description", "")),
            default=sub.get("default"), has_default="default" in sub))
        if isinstance(sub.get("properties"), dict):
            found.extend(_fields(sub, f"{path}."))
    return found


def _type(schema: Mapping[str, Any]) -> str:
    if "const" in schema:
        return f"'{schema['const']}'"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    names = {"object": "mapping", "array": "list", "null": "null"}
    kinds = kind if isinstance(kind, list) else [kind]
    return " | ".join(names.get(str(k), str(k)) for k in kinds)
