"""Manifest JSON Schemas (package data) and their cached validators."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from stackctl.resources import data_dir

KINDS = ("Component", "Stack", "Profile", "Repository", "GlobalConfig", "Flavor", "Policy")
API_VERSION = "stackctl/v1"


@cache
def manifest_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (data_dir("schemas") / "manifests" / f"{name.lower()}.json").read_text())
    return data


@cache
def kind_validator(kind: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(manifest_schema(kind))
