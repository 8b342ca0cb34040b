"""Saved plan files: recognising one, and reading it (``show``, ``apply PLANFILE``).

A saved plan is the JSON ``plan -o FILE`` wrote; reading it needs neither the
manifests nor the live state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stackctl.errors import UsageError
from stackctl.plan.model import Plan

MANIFEST_SUFFIXES = (".yaml", ".yml", ".j2")


def _plan_data(path: Path) -> dict[str, Any] | None:
    """The JSON object of a plan file; None when ``path`` is not one."""
    if not path.is_file() or path.suffix in MANIFEST_SUFFIXES:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "format_version" not in data:
        return None
    return data


def is_plan_file(path: Path) -> bool:
    return _plan_data(path) is not None


def read_saved_plan(path: Path) -> Plan | None:
    """The plan saved in ``path``; None when it is not a plan file."""
    data = _plan_data(path)
    return None if data is None else Plan.from_dict(data)


def load_plan_file(path: Path) -> Plan:
    """The plan saved in ``path``, or a usage error saying what ``path`` is instead."""
    if not path.exists():
        raise UsageError(f"No such plan file: {path}.",
                         hint="Save a plan with `stackctl plan -o plan.json`.")
    plan = read_saved_plan(path)
    if plan is None:
        raise UsageError(f"{path} is not a saved plan.",
                         hint="Save one with `stackctl plan -o plan.json`; to see what "
                              "manifests would change, run `stackctl plan PATH`.")
    return plan
