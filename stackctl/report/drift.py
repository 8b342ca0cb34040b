"""The drift view: live changes made outside stackctl since its last apply.

``text`` is one ``! ADDRESS: DETAIL`` line each, with each drifted field below it
(``path: last applied → live``), empty when there is none; a drift the drift mode keeps
live or refuses to revert says so on its line. ``json`` is ``{"format_version": 1,
"drift": [{"address", "detail", "fields": [{"path", "old", "new"}], "mode", "outcome"},
…]}``: where a mode other than remediate is set, ``mode`` is the address's drift mode and
``outcome`` what the next plan does with it (reverted, kept, refused or untouched;
plan.drift_mode.OUTCOMES).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from stackctl.plan.model import Plan

FORMATS = ("text", "json")


def render(plan: Plan, fmt: str = "text",
           outcomes: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The drift of ``plan``; ``outcomes``: address -> (drift mode, outcome)."""
    from stackctl.report.plan_text import drift_lines

    outcomes = outcomes or {}
    if fmt == "json":
        items = [{"address": d.address, "detail": d.detail,
                  "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in d.fields],
                  **({"mode": outcomes[d.address][0], "outcome": outcomes[d.address][1]}
                     if d.address in outcomes else {})}
                 for d in plan.drift]
        return json.dumps({"format_version": 1, "drift": items}, indent=2, default=str) + "\n"
    return "".join(line + "\n" for d in plan.drift
                   for line in drift_lines(d, outcome=outcomes.get(d.address)))
