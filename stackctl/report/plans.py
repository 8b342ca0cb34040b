"""One table of plan views: ``render(plan, fmt)`` for every ``--format`` of a plan.

``text`` is for people (colour on a terminal), ``json`` for scripts (the plan file's
shape, without its digest), ``markdown`` for a pull-request comment. Each result ends
with a newline, so the CLI writes it as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from stackctl.plan.model import Plan

FORMATS = ("text", "json", "markdown")


def _text(plan: Plan, color: bool, diff_only: bool) -> str:
    from stackctl.report.plan_text import render

    return render(plan, color=color, diff_only=diff_only) + "\n"


def _json(plan: Plan, color: bool, diff_only: bool) -> str:
    return plan.to_json() + "\n"


def _markdown(plan: Plan, color: bool, diff_only: bool) -> str:
    from stackctl.report.plan_markdown import render

    return render(plan)


VIEWS: dict[str, Callable[[Plan, bool, bool], str]] = {
    "text": _text, "json": _json, "markdown": _markdown}


def render(plan: Plan, fmt: str = "text", *, color: bool = False,
           diff_only: bool = False) -> str:
    """The plan in format ``fmt`` (one of FORMATS); ``diff_only``: changes and drift only."""
    return VIEWS[fmt](plan, color, diff_only)
