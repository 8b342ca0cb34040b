"""The drift view: live changes made outside stackctl since its last apply.

``text`` is one ``! ADDRESS: DETAIL`` line each, with each drifted field below it
(``path: last applied → live``), empty when there is none; ``json`` is
``{"format_version": 1, "drift": [{"address", "detail", "fields": [{"path", "old",
"new"}]}, …]}``.
"""

from __future__ import annotations

import json

from stackctl.plan.model import Plan

FORMATS = ("text", "json")


def render(plan: Plan, fmt: str = "text") -> str:
    from stackctl.report.plan_text import drift_lines

    if fmt == "json":
        items = [{"address": d.address, "detail": d.detail,
                  "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in d.fields]}
                 for d in plan.drift]
        return json.dumps({"format_version": 1, "drift": items}, indent=2, default=str) + "\n"
    return "".join(line + "\n" for d in plan.drift for line in drift_lines(d))
