"""The plan as a GitHub pull-request comment, rendered from templates/plan.md.j2.

GitHub refuses comments over 65,536 characters: details are dropped profile by
profile (summary first) until the comment fits, with a pointer to the full plan
(``stackctl show PLANFILE``).
"""

from __future__ import annotations

from typing import Any

from stackctl.plan.model import Plan
from stackctl.report.plan_text import KEPT_HINT, change_lines
from stackctl.resources import data_dir

GITHUB_COMMENT_LIMIT = 65_536


def render(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT,
           full_plan_hint: str = "`stackctl show plan.json`") -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(data_dir("templates"))),
                      undefined=StrictUndefined, autoescape=False,  # noqa: S701 - markdown
                      keep_trailing_newline=True)
    template = env.get_template("plan.md.j2")
    groups: dict[str, list[Any]] = {}
    for change in plan.changes:
        if change.action == "no-op" and not change.adopt:
            continue
        group = change.profile or "global settings"
        groups.setdefault(group, []).append(
            {"address": change.address, "action": change.action,
             "lines": change_lines(change, plan)})
    profiles: list[dict[str, Any]] = [{"name": n, "changes": c, "truncated": False}
                                      for n, c in sorted(groups.items())]
    from stackctl.plan.target import partial_note
    from stackctl.report.graph import plan_mermaid

    diagram, changed_components, affected_stacks = plan_mermaid(plan)
    text = ""
    for _ in range(len(profiles) + 1):
        text = template.render(plan=plan, counts=plan.counts, profiles=profiles,
                               diagram=diagram, changed_components=changed_components,
                               partial=partial_note(plan), policy=plan.policy_notes,
                               moved=plan.move_notes,
                               affected_stacks=affected_stacks,
                               drift=plan.drift, unmanaged=len(plan.unmanaged),
                               kept=plan.kept, kept_hint=KEPT_HINT,
                               truncated=any(p["truncated"] for p in profiles),
                               full_plan_hint=full_plan_hint)
        if len(text) <= limit:
            return text
        biggest = max((p for p in profiles if not p["truncated"]),
                      key=lambda p: sum(len("\n".join(c["lines"])) for c in p["changes"]),
                      default=None)
        if biggest is None:
            break
        biggest["truncated"] = True
    note = f"\n\n… truncated: run {full_plan_hint} for the full plan.\n"
    return text[: limit - len(note)] + note
