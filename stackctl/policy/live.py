"""The live objects a policy sees as ``oldObject`` in `plan`, by address.

Shaped like manifests (export's own rule, so a rule reads ``object`` and
``oldObject`` alike); secrets are placeholders there, as in an export.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stackctl.compiler.desired import address_of
from stackctl.compiler.load import Document
from stackctl.compiler.moved import Move
from stackctl.plan.live import Live, LiveProfile
from stackctl.workspace import Workspace


def live_objects(ws: Workspace, live: Live,
                 moves: Iterable[Move] = ()) -> dict[str, dict[str, Any]]:
    """By address; an object ``moves`` rename (a profile, or one object) is found under the
    name the manifests give it, so a rule compares a renamed object with its live self."""
    from stackctl.export import profile_documents

    moves = tuple(moves)
    # a profile renamed, unless its new name is live already (then the plan refuses it)
    renamed = {m.source.name: m.target.name for m in moves if m.source.kind == "profile"
               and (live.profiles.get(m.target.name) or LiveProfile(None)).config is None}
    objects: dict[str, dict[str, Any]] = {}
    for name, profile in live.profiles.items():
        if profile.config is None or profile.state is None:
            continue
        shown = renamed.get(name, name)
        for data in profile_documents(ws, profile.config, profile.state, []):
            meta = data["metadata"]
            if data["kind"] == "Profile":
                meta["name"] = shown
            else:
                meta["profile"] = shown
            address = address_of(Document(Path(), 0, data, 0, 0), shown)
            objects[address] = {**data, "address": address}
    for move in moves:  # moves inside a renamed profile name it by its new name
        source, target = str(move.source), str(move.target)
        if move.source.kind != "profile" and source in objects and target not in objects:
            data = objects.pop(source)
            objects[target] = {**data, "metadata": {**data["metadata"],
                                                    "name": move.target.name},
                               "address": target}
    return objects


def plan_policies(ws: Workspace, desired: Any, default_profile: str, live: Live) -> list[Any]:
    """Policy diagnostics of a plan: the desired state, with ``oldObject`` from live."""
    from stackctl.policy.check import check_policies, policy_documents

    if not policy_documents(desired):
        return []  # no live object is shaped for a policy that is not there
    return check_policies(desired, default_profile, live_objects(ws, live, desired.moves))


def as_records(diagnostics: list[Any], cwd: Path) -> tuple[dict[str, Any], ...]:
    """Policy diagnostics as a plan keeps them (JSON, markdown): paths relative to ``cwd``."""
    from stackctl.report.diagnostics import shown_path

    return tuple({"file": shown_path(d.location.path, cwd), "line": d.location.line,
                  "column": d.location.column, "severity": d.severity, "rule": d.rule,
                  "message": d.message} for d in diagnostics)
