"""The mermaid picture in the markdown plan: changed components and the stacks they affect,
small, and the counts instead when a plan is too big to draw."""

from __future__ import annotations

from stackctl.model import Address
from stackctl.plan.model import Change, Plan
from stackctl.report.graph import PLAN_DIAGRAM_MAX_NODES, plan_mermaid
from stackctl.report.plan_markdown import GITHUB_COMMENT_LIMIT, render


def _plan(changes: list[Change]) -> Plan:
    return Plan(id="p", created_at="t", inputs={}, stores={}, reads={}, desired_prints={},
                changes=tuple(changes))


def _component(i: int, action: str = "update") -> Change:
    return Change(key=Address.parse(f"prod/artifact_store/a{i}"), action=action,
                  impact=(f"stack 's{i}' (globally active)", "stack 'shared'"))


def test_small_plan_draws_changed_components_and_affected_stacks() -> None:
    plan = _plan([_component(1), _component(2, "create"),
                  Change(key=Address.parse("prod/stack/other"), action="delete"),
                  Change(key=Address.parse("prod/artifact_store/same"), action="no-op")])
    diagram, components, stacks = plan_mermaid(plan)
    assert (components, stacks) == (2, 4)  # s1, s2, shared affected; 'other' deleted
    assert diagram == """\
flowchart LR
  n0["~ prod/artifact_store/a1"]:::update
  n1["prod/stack/s1"]
  n2["prod/stack/shared"]
  n3["+ prod/artifact_store/a2"]:::create
  n4["prod/stack/s2"]
  n5["- prod/stack/other"]:::delete
  n0 --> n1
  n0 --> n2
  n3 --> n4
  n3 --> n2
  classDef create fill:#e6ffec,stroke:#1a7f37
  classDef update fill:#fff8c5,stroke:#9a6700
  classDef delete fill:#ffebe9,stroke:#cf222e
"""
    text = render(plan)
    assert f"```mermaid\n{diagram}```\n" in text
    assert text.index("```mermaid") < text.index("<details>")  # above the details


def test_huge_plan_falls_back_to_counts() -> None:
    plan = _plan([_component(i) for i in range(PLAN_DIAGRAM_MAX_NODES)])
    assert plan_mermaid(plan) == (None, PLAN_DIAGRAM_MAX_NODES, PLAN_DIAGRAM_MAX_NODES + 1)
    text = render(plan)
    assert "```mermaid" not in text
    assert (f"_{PLAN_DIAGRAM_MAX_NODES} changed components, {PLAN_DIAGRAM_MAX_NODES + 1} stacks "
            "changed or affected: too many to draw._") in text
    assert len(text) <= GITHUB_COMMENT_LIMIT


def test_no_changes_no_picture() -> None:
    text = render(_plan([Change(key=Address.parse("prod/artifact_store/same"),
                                action="no-op")]))
    assert "mermaid" not in text
    assert "too many to draw" not in text


def test_renames_are_drawn_with_their_new_name_and_following_stacks() -> None:
    plan = _plan([Change(key=Address.parse("prod/orchestrator/old"), action="rename",
                         after={"to": "prod/orchestrator/new"}, impact=("stack 'main'",)),
                  Change(key=Address.parse("profile/team"), action="rename",
                         after={"to": "profile/crew"})])
    diagram, components, stacks = plan_mermaid(plan)
    assert (components, stacks) == (1, 1)  # a profile rename is not drawn
    assert diagram == """\
flowchart LR
  n0["~ rename prod/orchestrator/old → new"]:::rename
  n1["prod/stack/main"]
  n0 --> n1
  classDef create fill:#e6ffec,stroke:#1a7f37
  classDef update fill:#fff8c5,stroke:#9a6700
  classDef delete fill:#ffebe9,stroke:#cf222e
  classDef rename fill:#ddf4ff,stroke:#0969da
"""
    text = render(plan)
    assert "| create | update | delete | rename | unchanged |" in text
    assert "| 0 | 0 | 0 | 2 | 0 |" in text
