"""One table of plan views: ``render(plan, fmt)`` for every ``--format`` of a plan.

``text`` is for people (colour on a terminal), ``json`` for scripts (the plan file's
shape, without its digest), ``markdown`` for a pull-request comment. Each result ends
with a newline, so the CLI writes it as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stackctl.plan.model import Plan

FORMATS = ("text", "json", "markdown")
# address -> (drift mode, outcome), from plan.pipeline.Planned.drift_outcomes
Outcomes = Mapping[str, tuple[str, str]] | None


def _text(plan: Plan, color: bool, diff_only: bool, plan_file: str | None,
          outcomes: Outcomes = None) -> str:
    from stackctl.report.plan_text import render

    return render(plan, color=color, diff_only=diff_only, outcomes=outcomes) + "\n"


def _json(plan: Plan, color: bool, diff_only: bool, plan_file: str | None,
          outcomes: Outcomes = None) -> str:
    return plan.to_json() + "\n"


def _markdown(plan: Plan, color: bool, diff_only: bool, plan_file: str | None,
              outcomes: Outcomes = None) -> str:
    from stackctl.report.plan_markdown import render

    # a comment cut at GitHub's limit points at the saved plan for the rest
    return render(plan, full_plan_hint=f"`stackctl show {plan_file or 'plan.json'}`")


VIEWS: dict[str, Callable[[Plan, bool, bool, str | None, Outcomes], str]] = {
    "text": _text, "json": _json, "markdown": _markdown}


def render(plan: Plan, fmt: str = "text", *, color: bool = False,
           diff_only: bool = False, plan_file: str | None = None,
           outcomes: Outcomes = None) -> str:
    """The plan in format ``fmt`` (one of FORMATS); ``diff_only``: changes and drift only;
    ``plan_file``: where the plan is saved (named by a truncated markdown comment);
    ``outcomes`` (``diff``, text): what the drift modes do with each drifted object."""
    return VIEWS[fmt](plan, color, diff_only, plan_file, outcomes)
