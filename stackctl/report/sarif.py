"""`stackctl validate --format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers.

One run, one driver ``stackctl``; a rule per diagnostic rule id that occurs, with
help text; a result per diagnostic, located by a URI relative to the working
directory (``%SRCROOT%``, what ``github/codeql-action/upload-sarif`` expects) and
a line/column region.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from stackctl.compiler.diagnostics import Diagnostic

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/stackctl/stackctl"

# Help per rule id: what the rule checks, as a person fixing the file needs it.
RULE_HELP = {
    "yaml-syntax": "The file is not valid YAML.",
    "duplicate-key": "A mapping defines the same key twice; YAML loaders keep only one.",
    "alias-limit": "YAML aliases are overused, recursive or expand too far.",
    "not-a-mapping": "A document must be a mapping (apiVersion, kind, metadata, spec).",
    "encoding": "Manifests are UTF-8 text.",
    "non-string-key": "Mapping keys must be text.",
    "yaml-tag": "Only JSON-like YAML is allowed: no custom or Python tags.",
    "unreadable": "The file cannot be read (missing, not a regular file, or too large).",
    "api-version": "Every manifest starts with apiVersion: stackctl/v1.",
    "unknown-kind": "kind must be Component, Stack, Profile, Repository, GlobalConfig or Flavor.",
    "mixed-file": "A file holds stackctl manifests or other YAML, not both.",
    "no-manifests": "The paths given hold no stackctl manifest.",
    "symlink-outside": "A symlink that resolves outside the project is not read.",
    "unknown-field": "A field the kind's schema does not define (a typo?).",
    "missing-field": "A required field is missing.",
    "wrong-type": "A field has the wrong type.",
    "schema": "The document does not match its kind's JSON Schema.",
    "invalid-name": "Names use letters, digits, '_', '-' and '.'.",
    "unknown-type": "Not a component type.",
    "unknown-flavor": "No built-in or custom flavor of that name for the component type.",
    "flavor-config": "The component's config does not match its flavor's schema.",
    "template-syntax": "The template is not valid Jinja2.",
    "template-undefined": "The template uses a variable nobody defined.",
    "template-placeholder": "An unset env.X lands where validation needs its value.",
    "template-security": "The template reached for something the sandbox forbids.",
    "template-error": "The template failed while rendering.",
    "template-limit": "The template renders too much text, too slowly, or recurses without end.",
    "duplicate-resource": "Two documents declare the same resource.",
    "dangling-reference": "A reference to a stack that is not declared.",
    "unknown-profile": "A reference to a profile that is not declared.",
    "project-file": "stackctl.yaml breaks its schema.",
}
_GENERIC = "A problem stackctl validate found in the manifests."


def sarif(diagnostics: Sequence[Diagnostic], cwd: Path | None = None) -> str:
    """The SARIF 2.1.0 log of diagnostics, as JSON text."""
    from stackctl import __version__

    rule_ids = sorted({d.rule for d in diagnostics})
    index = {rule: i for i, rule in enumerate(rule_ids)}
    rules = [{"id": rule, "name": _camel(rule),
              "shortDescription": {"text": RULE_HELP.get(rule, _GENERIC)},
              "help": {"text": RULE_HELP.get(rule, _GENERIC)},
              "defaultConfiguration": {"level": "error"}} for rule in rule_ids]
    results = [_result(d, index[d.rule], cwd) for d in diagnostics]
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "stackctl", "version": __version__,
                            "informationUri": INFORMATION_URI, "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }]}
    return json.dumps(log, indent=2)


def _result(d: Diagnostic, rule_index: int, cwd: Path | None) -> dict[str, object]:
    text = d.message + (f" ({d.hint})" if d.hint else "")
    region = {"startLine": max(d.location.line, 1)}
    if d.location.column:
        region["startColumn"] = d.location.column
    return {"ruleId": d.rule, "ruleIndex": rule_index,
            "level": "warning" if d.severity == "warning" else "error",
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": _artifact(d.location.path, cwd), "region": region}}]}


def _artifact(path: str, cwd: Path | None) -> dict[str, str]:
    if cwd is not None and os.path.isabs(path):
        relative = os.path.relpath(path, cwd)
        if not relative.startswith(".."):
            return {"uri": quote(Path(relative).as_posix()), "uriBaseId": "%SRCROOT%"}
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(Path(path).as_posix()), "uriBaseId": "%SRCROOT%"}


def _camel(rule: str) -> str:
    return "".join(part.capitalize() for part in rule.split("-"))
