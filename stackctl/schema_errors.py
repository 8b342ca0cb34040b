"""jsonschema errors → problems a person can act on: what, where, and a hint.

The one translation of jsonschema's errors, for manifests, the project file
and component configs. Values are never quoted where they may be secret: a
mapping or list (it may hold secret values), a URL (it may hold a password),
or a flavor's ``writeOnly`` field. Two voices, as the two audiences expect:
documents name the field path (``spec.flavor: expected string, found number``);
a component's config speaks as ZenML's CLI does (``'abc' is not of type
'integer'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from stackctl.model import ComponentType


@dataclass(frozen=True)
class SchemaProblem:
    path: tuple[str | int, ...]  # the value at fault (for an unknown field: the field)
    rule: str
    message: str
    hint: str | None = None
    at_key: bool = False  # point at the key itself, not at its value
    validator: str = ""  # the JSON Schema keyword that failed (for placeholders in validate)
    expected: Any = None  # that keyword's value, e.g. the expected type


def where(path: Iterable[Any], root: str = "the document") -> str:
    return ".".join(map(str, path)) or root


def quoted(value: Any) -> str:
    """A manifest value quoted for a message: text in quotes, anything else as JSON
    (``null``, never Python's ``None``)."""
    import json

    if isinstance(value, str) and value.isprintable():
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)  # a final "\n" shows as \n, on one line


def json_type(value: Any) -> str:
    """A YAML value's type in a manifest author's words (``null``, never ``NoneType``)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    return "list" if isinstance(value, list) else "null"


def _required(error: Any) -> str:
    return str(error.message).replace("is a required property", "is required")


def _unknown_fields(error: Any) -> tuple[list[str], list[str]]:
    """(the extra fields, the allowed ones) of an additionalProperties error."""
    allowed = sorted(error.schema.get("properties", {}))
    return sorted(set(error.instance) - set(allowed)), allowed


def document_problem(error: Any, root: str = "the document") -> SchemaProblem:
    """One error in a manifest or the project file (``root`` names the top level)."""
    path = tuple(error.absolute_path)
    validator = error.validator
    if validator == "additionalProperties":
        extra, allowed = _unknown_fields(error)
        key = extra[0] if extra else ""
        return SchemaProblem((*path, key), "unknown-field",
                             f"unknown field '{key}' in {where(path, root)}",
                             hint=f"Allowed: {', '.join(allowed)}.", at_key=True)
    if validator == "required":
        return SchemaProblem(path, "missing-field", f"{where(path, root)}: {_required(error)}")
    if validator == "enum" and path[-2:] == ("spec", "type"):
        return SchemaProblem(path, "unknown-type",
                             f"unknown component type {quoted(error.instance)}",
                             hint=f"Types: {', '.join(t.value for t in ComponentType)}.")
    if "propertyNames" in error.schema_path:  # the enum of stack slot names
        named = isinstance(error.instance, str)
        return SchemaProblem((*path, error.instance) if named else path, "unknown-type",
                             f"unknown component type {quoted(error.instance)} in "
                             f"{where(path, root)}",
                             hint=f"Types: {', '.join(t.value for t in ComponentType)}.",
                             at_key=named)
    if validator == "pattern" and path and path[-1] in ("name", "profile"):
        return SchemaProblem(path, "invalid-name",
                             f"invalid name {quoted(error.instance)} at {where(path, root)}",
                             hint="Use letters, digits, '_', '-' and '.'.")
    if validator == "type":
        return SchemaProblem(path, "wrong-type",
                             f"{where(path, root)}: expected {error.validator_value}, found "
                             f"{json_type(error.instance)}")
    return SchemaProblem(path, "schema", f"{where(path, root)}: {_document_message(error)}")


def _document_message(error: Any) -> str:
    """jsonschema's message, without quoting a mapping or a URL (they may hold secrets)."""
    instance = error.instance
    if error.absolute_path and error.absolute_path[-1] == "url":  # may hold a password
        return f"not a database URL of the form scheme://… ({error.validator})"
    if not isinstance(instance, (dict, list)):
        return str(error.message)
    alternatives = [sorted(s.get("required", [])) for s in error.validator_value
                    if isinstance(s, dict)] if error.validator in ("oneOf", "anyOf") else []
    if error.validator == "not" and isinstance(error.validator_value, dict):
        together = error.validator_value.get("required", [])
        if len(together) > 1:
            return "must not have both " + " and ".join(together)
        alternatives = [sorted(s.get("required", []))
                        for s in error.validator_value.get("anyOf", []) if isinstance(s, dict)]
        names = " or ".join(n for a in alternatives for n in a)
        return f"must not have {names}" if names else "matches a schema it must not match"
    if alternatives and all(len(a) == 1 for a in alternatives):
        names = ", ".join(a[0] for a in alternatives)
        return f"needs exactly one of {names}" if error.validator == "oneOf" else \
            f"needs one of {names}"
    return f"does not match the schema ({error.validator})"


def config_problems(errors: Iterable[Any], flavor: str, fields: Mapping[str, Any],
                    secret: AbstractSet[str]) -> list[SchemaProblem]:
    """Every error in a component's config, for a flavor with these ``fields``."""
    from stackctl.flavors import SENSITIVE

    problems: list[SchemaProblem] = []
    for error in sorted(errors, key=lambda e: list(e.path)):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            extra, _ = _unknown_fields(error)
            valid = ", ".join(sorted(fields)) or "(none)"
            problems.extend(SchemaProblem(
                (key,), "flavor-config",
                f"unknown field '{key}' for flavor '{flavor}' (valid fields: {valid})",
                at_key=True) for key in extra)
            continue
        if error.validator == "required":
            problems.append(SchemaProblem(path, "flavor-config", _required(error)))
            continue
        field = path[-1] if path else None
        shown = SENSITIVE if field in secret else quoted(error.instance)  # null, not None
        if error.validator == "type":
            types = error.validator_value if isinstance(error.validator_value, list) else [
                error.validator_value]
            message = f"{shown} is not of type " + " or ".join(f"'{t}'" for t in types)
        elif error.validator == "pattern":
            message = f"{shown} does not match {error.validator_value!r}"
        elif error.validator == "enum":
            message = f"{shown} is not one of {error.validator_value!r}"
        elif field in secret or isinstance(error.instance, (dict, list)):
            message = f"invalid value ({error.validator})"
        else:
            message = str(error.message)
        problems.append(SchemaProblem(path, "flavor-config", message,
                                      validator=str(error.validator),
                                      expected=error.validator_value))
    return problems
