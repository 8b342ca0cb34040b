"""Integrity rules over a profile's state: the one copy every face uses.

Rules return ``Problem`` values; the imperative CLI and the Python API raise
the first as an error, the compiler maps each to a manifest location.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stackctl.errors import IntegrityError
from stackctl.model import MANDATORY_TYPES, ComponentType, ProfileState, Stack


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str
    # where in a Stack manifest the problem is: ("spec", "components", "<type>")
    path: tuple[str | int, ...] = ()
    hint: str | None = None


def stack_problems(stack: Stack, state: ProfileState) -> list[Problem]:
    """Everything wrong with ``stack`` if it were registered in ``state``."""
    problems: list[Problem] = []
    for ctype in sorted(MANDATORY_TYPES - stack.components.keys(), key=lambda t: t.value):
        problems.append(Problem(
            "stack-missing-component",
            f"Stack '{stack.name}' has no {ctype.human}: orchestrator, artifact store and "
            "metadata store are mandatory.",
            ("spec", "components"),
            hint=f"Name {ctype.with_article} ({ctype.value}).",
        ))
    for ctype, name in sorted(stack.components.items()):
        if state.component(ctype, name) is not None:
            continue
        path = ("spec", "components", ctype.value)
        other = sorted(t for (t, n) in state.components if n == name and t is not ctype)
        if other:
            problems.append(slot_problem(stack.name, ctype, other[0], name))
            continue
        names = sorted(c.name for c in state.components_of(ctype))
        problems.append(Problem(
            "stack-unknown-component",
            f"Unable to find stack component (type: {ctype.value}) with name '{name}'.",
            path,
            hint=f"Available names: {', '.join(names) if names else '(none)'}.",
        ))
    return problems


def slot_problem(stack: str, slot: ComponentType, actual: ComponentType, name: str) -> Problem:
    """A component of type ``actual`` named in the ``slot`` of a stack."""
    return Problem(
        "stack-wrong-type",
        f"Component '{name}' is {actual.with_article}, not {slot.with_article}; it cannot "
        f"fill the {slot.value} slot of stack '{stack}'.",
        ("spec", "components", slot.value))


def check_stack(stack: Stack, state: ProfileState) -> None:
    problems = stack_problems(stack, state)
    if problems:
        first = problems[0]
        more = "".join(f"\n{p.message}" for p in problems[1:])
        raise IntegrityError(first.message + more, hint=first.hint)


def component_delete_problems(ctype: ComponentType, name: str, state: ProfileState,
                              remaining_stacks: Mapping[str, Stack] | None = None) -> list[Problem]:
    """A component may go only when no stack that stays still uses it."""
    stacks = state.stacks if remaining_stacks is None else remaining_stacks
    users = sorted(s.name for s in stacks.values() if s.components.get(ctype) == name)
    if not users:
        return []
    return [Problem(
        "component-in-use",
        f"Unable to delete stack component (type: {ctype.value}, name: {name}) that is part of "
        f"a registered stack (stack name: {', '.join(repr(u) for u in users)}).",
        hint="Delete or change those stacks first.",
    )]


def active_stack_delete_problem(name: str, active_in: list[str]) -> Problem | None:
    """``active_in`` says where it is active: 'globally active', 'active in repository X'."""
    if not active_in:
        return None
    where = " and ".join(active_in)
    return Problem(
        "stack-active",
        f"Stack {name} cannot be deleted while it is {where}.",
        hint="Choose a different active stack first by running "
             "'stackctl stack set [--global] STACK'.",
    )
