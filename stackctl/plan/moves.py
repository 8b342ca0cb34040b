"""Renaming a component or stack in a profile's state and bookkeeping (``moved:``).

One rule, used by the planner (on the live snapshot it compares) and by apply
(inside the store's transaction): the object keeps its uuid, every stack naming
a renamed component names the new one, and the bookkeeping (fingerprint, owner,
last-applied record) moves with the object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from stackctl.model import Address, ProfileState
from stackctl.plan import compare, records
from stackctl.stores.base import mark_managed


@dataclass
class Books:
    """A profile's bookkeeping tables, renamed in place."""

    managed: dict[str, str]
    owners: dict[str, str]
    applied: dict[str, Mapping[str, Any]]


def exists(state: ProfileState, address: Address) -> bool:
    if address.kind == "stack":
        return address.name in state.stacks
    return address.key in state.components


def rename(state: ProfileState, books: Books, source: Address,
           target: Address) -> ProfileState:
    """``state`` with ``source`` renamed to ``target``; ``books`` follow.

    A source that is gone live (deleted outside stackctl) but still in the books: only
    its record moves, so the target is created under the new name and the old name's
    deletion is not reported as drift forever.
    """
    profile = str(source.profile)
    components = dict(state.components)
    stacks = dict(state.stacks)
    if not exists(state, source):
        pass
    elif source.kind == "stack":
        stacks[target.name] = replace(stacks.pop(source.name), name=target.name)
    else:
        ctype = source.key[0]
        components[target.key] = replace(components.pop(source.key), name=target.name)
        for name, stack in list(stacks.items()):
            if stack.components.get(ctype) == source.name:
                stacks[name] = replace(stack, components={**stack.components,
                                                          ctype: target.name})
                _rerecord(books, str(Address.stack(profile, name)),
                          compare.stack_view(stack), compare.stack_view(stacks[name]))
    old, new = str(source), str(target)
    if old in books.managed:
        mark_managed(books.managed, books.owners, books.applied, new, books.managed[old],
                     books.owners.get(old), books.applied.get(old))
        mark_managed(books.managed, books.owners, books.applied, old, None, None, None)
    return ProfileState(components, stacks, dict(state.flavors))


def _rerecord(books: Books, address: str, before: Mapping[str, Any],
              after: Mapping[str, Any]) -> None:
    """A managed stack whose component was renamed: its record follows, unless it had
    drifted (then the drift stays visible)."""
    if books.managed.get(address) == compare.print_of(before):
        mark_managed(books.managed, books.owners, books.applied, address,
                     compare.print_of(after), books.owners.get(address),
                     records.record_of(after))
