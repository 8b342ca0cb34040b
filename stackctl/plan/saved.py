"""Saved plan files: written with a digest, read back through one validated loader.

Like a Terraform/OpenTofu plan file, a saved plan is an artifact to be applied
exactly as reviewed. Its JSON carries ``digest``: a SHA-256 over the canonical
form of everything else, checked before any other part of the file is read, so
an edit (by hand, by a broken CI cache) is refused as such. The digest is not a
signature; `apply PLANFILE` also recomputes the plan and requires the very same
changes (``stackctl.apply.check_same_changes``), so even a re-digested edit
cannot make apply do anything the manifests and the live state do not call for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stackctl.errors import ConfigFileError, Location
from stackctl.plan.model import ACTIONS, FORMAT_VERSION, Change, Drift, FieldChange, Kept, Plan

DIGEST_KEY = "digest"
KINDS = ("component", "stack", "flavor", "profile", "repository", "global")
_HINT = "Make a new plan with `stackctl plan -o FILE` and apply that file."
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")

_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_OPT_STR = {"type": ["string", "null"]}
_OPT_OBJ = {"type": ["object", "null"]}
_FIELD = {"type": "object", "required": ["path", "old", "new"], "additionalProperties": False,
          "properties": {"path": _STR, "old": {}, "new": {}}}
_FIELDS = {"type": "array", "items": _FIELD}
# The whole file, strictly: a key stackctl does not write is an edit too.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format_version", "id", "created_at", "inputs", "stores", "reads",
                 "desired_prints", "changes", "drift", "unmanaged", "prunable", "prune",
                 "defaults", "kept", DIGEST_KEY],
    "additionalProperties": False,
    "properties": {
        "format_version": {"const": FORMAT_VERSION},
        # exactly a uuid4 text: it salts the fingerprints
        "id": {"type": "string", "pattern": "^[0-9a-f-]{36}", "minLength": 36, "maxLength": 36},
        "created_at": _STR,
        DIGEST_KEY: _STR,
        "summary": {"type": "object"},
        "inputs": {
            "type": "object", "additionalProperties": False,
            "required": ["paths", "env", "var_files", "variables", "variables_salt", "cwd"],
            "properties": {
                "paths": _STRS, "env": _OPT_STR, "var_files": _STRS, "cwd": _OPT_STR,
                "variables_salt": _STR,
                "max_deletes": {"type": "integer", "minimum": 0},  # plan.delete_cap
                "targets": _STRS, "excludes": _STRS,  # plan.target
                # plan.drift_mode: the project's mode (when not remediate), the Profile
                # manifests' overrides, --force; apply PLANFILE plans again under these
                "drift_mode": {"enum": ["warn", "refuse"]}, "force": {"const": True},
                "drift_modes": {"type": "object", "minProperties": 1, "additionalProperties": {
                    "enum": ["remediate", "warn", "refuse"]}},
                "adopt": _STRS,
                "variables": {"type": "array", "items": {
                    "type": "object", "required": ["name", "print"],
                    "additionalProperties": False,
                    "properties": {"name": _STR, "print": _STR}}},
            },
        },
        "stores": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["lineage", "serial"], "additionalProperties": False,
            "properties": {"lineage": _STR, "serial": {"type": "integer"}}}},
        "reads": {"type": "object", "additionalProperties": _OPT_STR},
        "desired_prints": {"type": "object", "additionalProperties": _STR},
        "changes": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["address", "kind", "action", "profile", "before", "after", "fields",
                         "adopt", "impact"],
            "properties": {
                "address": _STR, "kind": {"enum": list(KINDS)}, "action": {"enum": list(ACTIONS)},
                "profile": _OPT_STR, "before": _OPT_OBJ, "after": _OPT_OBJ, "fields": _FIELDS,
                "adopt": {"type": "boolean"}, "impact": _STRS,
            }}},
        "drift": {"type": "array", "items": {
            "type": "object", "required": ["address", "detail", "fields"],
            "additionalProperties": False,
            "properties": {"address": _STR, "detail": _STR, "fields": _FIELDS}}},
        "unmanaged": _STRS,
        # drifted fields driftMode warn leaves live (plan.drift_mode.kept_fields)
        "kept": {"type": "array", "items": {
            "type": "object", "required": ["address", "fields"], "additionalProperties": False,
            "properties": {"address": _STR, "fields": _FIELDS}}},
        # objects a new profile is created with (its default stack and components)
        "defaults": _STRS,
        "prunable": _STRS,
        "prune": {"type": "boolean"},
        # policy warnings and audit notes (policy.live.as_records)
        "policy": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["file", "line", "column", "severity", "rule", "message"],
            "properties": {"file": _STR, "line": {"type": "integer"},
                           "column": {"type": "integer"}, "severity": {"enum": ["warning", "note"]},
                           "rule": _STR, "message": _STR}}},
    },
}


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def digest_of(data: Mapping[str, Any]) -> str:
    """The digest of a plan file's content: everything but the digest itself."""
    body = {k: v for k, v in data.items() if k != DIGEST_KEY}
    return "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()


def dumps(plan: Plan) -> bytes:
    """A plan file's bytes: the plan's JSON plus its digest."""
    # through JSON once, so the digest covers exactly what a reader will parse
    data = json.loads(json.dumps(plan.to_dict(), default=str))
    data[DIGEST_KEY] = digest_of(data)
    return json.dumps(data, indent=2, sort_keys=True).encode()


def plan_file_among(targets: tuple[str, ...]) -> Path | None:
    """The plan file `apply` was given, if it was given one (a single non-manifest file)."""
    if len(targets) != 1:
        return None
    path = Path(targets[0])
    if path.name.endswith(_MANIFEST_SUFFIXES) or not path.is_file():
        return None
    return path


def _no_constant(name: str) -> Any:
    """``NaN``/``Infinity``: Python's json reads them, JSON has no such values (and stackctl
    never writes them), so a file holding one is not a plan file."""
    raise ValueError(f"{name} is not JSON")


def load(path: Path) -> Plan:
    """Read, verify and parse a saved plan; any defect is a clean ``ConfigFileError``."""
    where = Location(str(path))
    try:
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text, parse_constant=_no_constant)
    except OSError as exc:
        raise ConfigFileError(f"Cannot read the plan file: {exc.strerror}.",
                              location=where) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ConfigFileError("This is not a stackctl plan file (not JSON).",
                              location=where, hint=_HINT) from None
    if not isinstance(data, dict):
        raise ConfigFileError("This is not a stackctl plan file (not a JSON object).",
                              location=where, hint=_HINT)
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigFileError(f"Unsupported plan format version {_short(version)}.",
                              location=where,
                              hint=f"This stackctl reads plan format {FORMAT_VERSION}. {_HINT}")
    recorded = data.get(DIGEST_KEY)
    try:
        actual = digest_of(data)
    except ValueError:  # NaN/Infinity: never written by stackctl
        actual = ""
    if not isinstance(recorded, str) or recorded != actual:
        raise ConfigFileError(
            "The plan file was modified after it was saved (its digest does not match)."
            if isinstance(recorded, str) else "The plan file has no digest.",
            location=where, hint=_HINT)
    _validate(data, where)
    return _plan(data, where)


def _validate(data: Mapping[str, Any], where: Location) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(SCHEMA).iter_errors(data))
    if error is not None:
        at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise ConfigFileError(f"The plan file is malformed at {at.lstrip('.') or 'top level'}: "
                              f"{_short(error.message, 160)}.", location=where, hint=_HINT)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fields(raw: list[dict[str, Any]]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(f["path"], f["old"], f["new"]) for f in raw)


def _plan(data: Mapping[str, Any], where: Location) -> Plan:
    changes: list[Change] = []
    for index, raw in enumerate(data["changes"]):
        try:
            change = Change.from_dict(raw)
        except ValueError:  # an address that names no resource (or an unknown type)
            change = None
        if change is None or (change.kind, change.profile) != (raw["kind"], raw["profile"]):
            raise ConfigFileError(
                f"The plan file is malformed at changes[{index}]: "
                f"{_short(raw['address'])} is not the address of a {raw['kind']}.",
                location=where, hint=_HINT)
        changes.append(change)
    drift = tuple(Drift(d["address"], d["detail"], _fields(d["fields"])) for d in data["drift"])
    return Plan(id=data["id"], created_at=data["created_at"], inputs=data["inputs"],
                stores=data["stores"], reads=data["reads"],
                desired_prints=data["desired_prints"], changes=tuple(changes), drift=drift,
                unmanaged=tuple(data["unmanaged"]), prunable=tuple(data["prunable"]),
                prune=data["prune"], defaults=tuple(data["defaults"]),
                format_version=data["format_version"], policy=tuple(data.get("policy", ())),
                kept=tuple(Kept(k["address"], _fields(k["fields"])) for k in data["kept"]))


def is_plan_file(path: Path) -> bool:
    """Whether ``path`` looks like a saved plan (`plan PLANFILE` says to use `show`)."""
    if path.name.endswith(_MANIFEST_SUFFIXES) or not path.is_file():
        return False
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "format_version" in data
