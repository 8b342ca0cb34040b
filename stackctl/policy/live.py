"""The live objects a policy sees as ``oldObject`` in `plan`, by address.

Shaped like manifests (export's own rule, so a rule reads ``object`` and
``oldObject`` alike); secrets are placeholders there, as in an export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stackctl.compiler.desired import address_of
from stackctl.compiler.load import Document
from stackctl.plan.live import Live
from stackctl.workspace import Workspace


def live_objects(ws: Workspace, live: Live) -> dict[str, dict[str, Any]]:
    from stackctl.export import profile_documents

    objects: dict[str, dict[str, Any]] = {}
    for name, profile in live.profiles.items():
        if profile.config is None or profile.state is None:
            continue
        for data in profile_documents(ws, profile.config, profile.state, []):
            meta = data["metadata"]
            meta.setdefault("profile", name)
            address = address_of(Document(Path(), 0, data, 0, 0), name)
            objects[address] = {**data, "address": address}
    return objects


def plan_policies(ws: Workspace, desired: Any, default_profile: str, live: Live) -> list[Any]:
    """Policy diagnostics of a plan: the desired state, with ``oldObject`` from live."""
    from stackctl.policy.check import check_policies, policy_documents

    if not policy_documents(desired):
        return []  # no live object is shaped for a policy that is not there
    return check_policies(desired, default_profile, live_objects(ws, live))


def as_records(diagnostics: list[Any], cwd: Path) -> tuple[dict[str, Any], ...]:
    """Policy diagnostics as a plan keeps them (JSON, markdown): paths relative to ``cwd``."""
    from stackctl.report.diagnostics import shown_path

    return tuple({"file": shown_path(d.location.path, cwd), "line": d.location.line,
                  "column": d.location.column, "severity": d.severity, "rule": d.rule,
                  "message": d.message} for d in diagnostics)
