"""The drift view: live changes made outside stackctl since its last apply.

``text`` is one ``! ADDRESS: DETAIL`` line each (empty when there is none);
``json`` is ``{"format_version": 1, "drift": [{"address", "detail"}, …]}``.
"""

from __future__ import annotations

import json

from stackctl.plan.model import Plan

FORMATS = ("text", "json")


def render(plan: Plan, fmt: str = "text") -> str:
    items = [{"address": d.address, "detail": d.detail} for d in plan.drift]
    if fmt == "json":
        return json.dumps({"format_version": 1, "drift": items}, indent=2) + "\n"
    return "".join(f"! {i['address']}: {i['detail']}\n" for i in items)
