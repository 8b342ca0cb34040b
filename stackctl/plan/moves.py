"""Renaming a component, stack or profile in live state and bookkeeping (``moved:``).

One rule, used by the planner (on the live snapshot it compares) and by apply
(inside the store's transaction): the object keeps its uuid, every stack naming
a renamed component names the new one, and the bookkeeping (fingerprint, owner,
last-applied record) moves with the object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackctl.model import Address, ProfileConfig, ProfileState
from stackctl.plan import compare, records
from stackctl.stores.base import mark_managed

if TYPE_CHECKING:
    from stackctl.compiler.desired import DesiredState


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


# -- profiles ------------------------------------------------------------------------
# A profile rename is two commits, in this order: (1) the profile's store, where every
# record ``old/...`` becomes ``new/...`` (its objects are untouched); (2) the global
# config, where the entry is renamed (a local store in its default directory moves with
# it, in the same journaled commit), the active profile follows and ``profile/old``'s
# record becomes ``profile/new``'s. A crash between them leaves the global config naming
# ``old`` over a store whose records already say ``new/...``: the next plan plans the
# same rename again, and (1) is then a no-op (``rename_profile_books`` is idempotent).


def in_renamed_profile(address: str, old: str, new: str) -> str:
    """``address`` once profile ``old`` is named ``new`` (others unchanged)."""
    parsed = Address.parse(address)
    if parsed.kind in ("component", "stack", "flavor") and parsed.profile == old:
        return str(replace(parsed, profile=new))
    if parsed.kind == "profile" and parsed.name == old:
        return str(Address.of_profile(new))
    return address


def rename_profile_books(books: Books, old: str, new: str) -> None:
    """Every record of profile ``old`` (``old/...``, ``profile/old``) moves to ``new``,
    in place; records already moved stay."""
    for address in sorted(books.managed):
        moved = in_renamed_profile(address, old, new)
        if moved != address:
            mark_managed(books.managed, books.owners, books.applied, moved,
                         books.managed[address], books.owners.get(address),
                         books.applied.get(address))
            mark_managed(books.managed, books.owners, books.applied, address, None, None, None)


def renamed_profile(config: ProfileConfig, new: str, root: Path | None,
                    declared_url: str | None = None) -> ProfileConfig:
    """The global config's entry of a profile renamed to ``new``: a store in its default
    place (``root/profiles/old``: a local store's directory, a SQL profile's SQLite
    database) moves to the new name's, unless the manifests declare the renamed profile's
    store at the old place (``declared_url``); any other store (a database elsewhere, a
    local store elsewhere) stays where it is."""
    from stackctl.workspace import default_store_url

    url = config.store_url
    if (root is not None and url != declared_url
            and url == default_store_url(root, config.name, config.store_type)):
        url = default_store_url(root, new, config.store_type)
    return replace(config, name=new, store_url=url)


def occupied_store_dir(before: ProfileConfig, after: ProfileConfig,
                       root: Path | None) -> Path | None:
    """The new name's default directory when a renamed profile's store moves there and
    something is already in it (the move would not happen and the URL would point at
    whatever is there); None otherwise."""
    from stackctl.workspace import default_store_dir

    if root is None or after.store_url == before.store_url:
        return None
    target = default_store_dir(root, after.name)
    return target if os.path.lexists(target) else None


def declared_store_url(desired: DesiredState, name: str) -> str | None:
    """The store URL the manifests declare for profile ``name`` (None: none declared)."""
    dp = desired.profiles.get(name)
    return dp.settings.url if dp is not None and dp.settings is not None else None


def rename_profile_globals(books: Books, before: ProfileConfig, after: ProfileConfig,
                           active: bool) -> None:
    """The global records follow a renamed profile: ``profile/old`` becomes
    ``profile/new`` (re-recorded with its new URL unless it had drifted) and, when it was
    the ``active`` profile, the recorded active profile."""
    rename_profile_books(books, before.name, after.name)
    _rerecord(books, str(Address.of_profile(after.name)), compare.profile_view(before),
              compare.profile_view(after))
    if active:
        _rerecord(books, str(Address.global_()), {"active_profile": before.name},
                  {"active_profile": after.name})
