"""The profile store interface every backend implements (local YAML, SQL).

A store holds one profile's components, stacks and custom flavors, plus
stackctl's bookkeeping (serial, lineage, what stackctl manages). Reads give an
immutable ``ProfileState``; every change goes through a ``Transaction`` that
the store commits atomically under its lock.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from stackctl.model import Component, ComponentType, CustomFlavor, ProfileState, Stack

_V = TypeVar("_V")


@dataclass(frozen=True)
class Bookkeeping:
    """stackctl's own records for one store, kept beside the ZenML data."""

    lineage: str
    serial: int = 0
    # address -> fingerprint of what stackctl last applied there
    managed: Mapping[str, str] = field(default_factory=dict)
    # ids of saved plans already applied (global config only): a plan applies once
    applied_plans: tuple[str, ...] = ()
    # address -> name of the project that applied it (absent: an unnamed project)
    owners: Mapping[str, str] = field(default_factory=dict)
    # address -> redacted record of the view stackctl last applied there (plan.records):
    # names the fields that drifted; bookkeeping from before records has none
    applied: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class LazyRecords(Mapping[str, Mapping[str, Any]]):
    """Last-applied records read when first asked for.

    Only a drifted resource or a rename needs them; a no-op plan of 10,000
    resources never does, so it does not keep ~1 KiB of parsed record each.
    ``load`` reads them again (and must refuse a store changed meanwhile).
    """

    def __init__(self, load: Callable[[], Mapping[str, Mapping[str, Any]]]) -> None:
        self._load = load
        self._records: Mapping[str, Mapping[str, Any]] | None = None

    def _all(self) -> Mapping[str, Mapping[str, Any]]:
        if self._records is None:
            self._records = self._load()
        return self._records

    def __getitem__(self, address: str) -> Mapping[str, Any]:
        return self._all()[address]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def parse_bookkeeping(data: Any, path: str) -> Bookkeeping:
    """stackctl's bookkeeping JSON (a store's ``state.json``, the global ``global.json``),
    checked field by field: a damaged file is one clean error naming it, never a crash."""
    from stackctl.errors import ConfigFileError, Location

    def bad(what: str) -> ConfigFileError:
        return ConfigFileError(
            f"stackctl's bookkeeping is damaged: {what}.", location=Location(path),
            hint="Restore the file from a backup, or delete it (stackctl then manages nothing "
                 "here until the next apply).")

    if not isinstance(data, dict):
        raise bad("it is not a JSON object")
    lineage, serial = data.get("lineage", ""), data.get("serial", 0)
    managed, plans = data.get("managed", {}), data.get("applied_plans", [])
    if not isinstance(lineage, str):
        raise bad("'lineage' is not a string")
    if type(serial) is not int or serial < 0:
        raise bad("'serial' is not a whole number")
    if not (isinstance(managed, dict) and all(isinstance(v, str) for v in managed.values())):
        raise bad("'managed' is not an object of fingerprints")
    if not (isinstance(plans, list) and all(isinstance(p, str) for p in plans)):
        raise bad("'applied_plans' is not a list of plan ids")
    owners = data.get("owners", {})
    if not (isinstance(owners, dict) and all(isinstance(v, str) for v in owners.values())):
        raise bad("'owners' is not an object of project names")
    applied = data.get("applied", {})
    if not (isinstance(applied, dict) and all(isinstance(v, dict) for v in applied.values())):
        raise bad("'applied' is not an object of last-applied records")
    schemas = data.get("flavor_schemas", {})
    if not (isinstance(schemas, dict) and all(isinstance(v, dict) for v in schemas.values())):
        raise bad("'flavor_schemas' is not an object of JSON Schemas")
    return Bookkeeping(lineage=lineage, serial=serial, managed=dict(managed),
                       applied_plans=tuple(plans), owners=dict(owners), applied=dict(applied))


class Transaction:
    """Changes collected against a snapshot, committed as one unit by the store."""

    def __init__(self, state: ProfileState, books: Bookkeeping) -> None:
        self.before = state
        self.books_before = books
        self.components: dict[tuple[ComponentType, str], Component] = dict(state.components)
        self.stacks: dict[str, Stack] = dict(state.stacks)
        self.flavors: dict[tuple[ComponentType, str], CustomFlavor] = dict(state.flavors)
        self.managed: dict[str, str] = dict(books.managed)
        self.owners: dict[str, str] = dict(books.owners)
        self.applied: dict[str, Mapping[str, Any]] = dict(books.applied)

    def put_component(self, component: Component) -> None:
        self.components[component.key] = component

    def delete_component(self, ctype: ComponentType, name: str) -> None:
        self.components.pop((ctype, name), None)

    def put_stack(self, stack: Stack) -> None:
        self.stacks[stack.name] = stack

    def delete_stack(self, name: str) -> None:
        self.stacks.pop(name, None)

    def put_flavor(self, flavor: CustomFlavor) -> None:
        self.flavors[(flavor.type, flavor.name)] = flavor

    def delete_flavor(self, ctype: ComponentType, name: str) -> None:
        self.flavors.pop((ctype, name), None)

    def mark_managed(self, address: str, print_: str | None, owner: str | None = None,
                     record: Mapping[str, Any] | None = None) -> None:
        """Record (or, with None, forget) that stackctl manages ``address`` (for ``owner``).

        ``record`` is the redacted last-applied record; without one an older record
        is dropped too, as it no longer describes what was applied.
        """
        mark_managed(self.managed, self.owners, self.applied, address, print_, owner, record)

    @property
    def after(self) -> ProfileState:
        return ProfileState(
            components=dict(self.components), stacks=dict(self.stacks), flavors=dict(self.flavors)
        )

    @property
    def changed(self) -> bool:
        return (
            self.components != dict(self.before.components)
            or self.stacks != dict(self.before.stacks)
            or self.flavors != dict(self.before.flavors)
            or self.managed != dict(self.books_before.managed)
            or self.owners != dict(self.books_before.owners)
            or self.applied != dict(self.books_before.applied)
        )


def mark_managed(managed: dict[str, str], owners: dict[str, str],
                 applied: dict[str, Mapping[str, Any]], address: str, print_: str | None,
                 owner: str | None, record: Mapping[str, Any] | None) -> None:
    """The one rule for a managed address, its owner and its last-applied record (profile
    and global bookkeeping alike). A None owner or record drops an older one: it no
    longer describes what was applied."""
    _put(managed, address, print_)
    _put(owners, address, owner if print_ is not None else None)
    _put(applied, address, record if print_ is not None else None)


def _put(table: dict[str, _V], address: str, value: _V | None) -> None:
    if value is None:
        table.pop(address, None)
    else:
        table[address] = value


def seed_transaction(seed: ProfileState, managed: Mapping[str, str],
                     lineage: str, owners: Mapping[str, str] | None = None,
                     applied: Mapping[str, Mapping[str, Any]] | None = None) -> Transaction:
    """A transaction from an empty store to ``seed``: how every backend is created."""
    tx = Transaction(ProfileState(components={}, stacks={}), Bookkeeping(lineage=lineage))
    for comp in seed.components.values():
        tx.put_component(comp)
    for stack in seed.stacks.values():
        tx.put_stack(stack)
    for flavor in seed.flavors.values():
        tx.put_flavor(flavor)
    seed_books(tx, managed, owners, applied)
    return tx


def seed_books(tx: Transaction, managed: Mapping[str, str],
               owners: Mapping[str, str] | None = None,
               applied: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Mark what a new store's creator manages (``seed_transaction``'s second half)."""
    for address, print_ in managed.items():
        tx.mark_managed(address, print_, (owners or {}).get(address),
                        (applied or {}).get(address))


def no_books_to_fill() -> None:
    """``before_books``' default: the bookkeeping given is complete already."""


class ProfileStore(abc.ABC):
    """One profile's storage backend."""

    store_type: str

    def __init__(self, profile: str, url: str) -> None:
        self.profile = profile
        self.url = url

    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether the store has been initialized."""

    @abc.abstractmethod
    def initialize(self, seed: ProfileState) -> None:
        """Create the store holding ``seed`` (refuses if it exists)."""

    def create(self, seed: ProfileState, managed: Mapping[str, str],
               owners: Mapping[str, str] | None = None,
               applied: Mapping[str, Mapping[str, Any]] | None = None, *,
               before_books: Callable[[], None] = no_books_to_fill) -> None:
        """Initialize holding ``seed``, with stackctl managing ``managed`` (for ``owners``;
        last-applied records ``applied``).

        ``before_books`` is called before those three are read: a caller may fill them
        there, and a store that can write its files meanwhile (the local store) does.

        This default takes two commits; a backend that can do both in one
        (the local store does) overrides it, so a crash leaves no store or the
        whole one.
        """
        before_books()
        self.initialize(seed)
        if managed:
            with self.transaction() as tx:
                for address, print_ in managed.items():
                    tx.mark_managed(address, print_, (owners or {}).get(address),
                                    (applied or {}).get(address))

    @abc.abstractmethod
    def load(self) -> ProfileState:
        """Read the whole profile state."""

    def load_stacks(self) -> Mapping[str, Stack]:
        """Just the stacks (backends may skip reading component configs)."""
        return self.load().stacks

    @abc.abstractmethod
    def bookkeeping(self) -> Bookkeeping:
        """Read serial, lineage and managed records."""

    def load_with_books(self) -> tuple[ProfileState, Bookkeeping]:
        """``load()`` and ``bookkeeping()`` (a backend may read both in one go)."""
        return self.load(), self.bookkeeping()

    @abc.abstractmethod
    def destroy(self) -> None:
        """Remove the store's data (profile deletion)."""

    @abc.abstractmethod
    @contextmanager
    def _locked_snapshot(self) -> Iterator[tuple[ProfileState, Bookkeeping]]:
        """Hold the store's write lock; yield the state read under it."""

    @abc.abstractmethod
    def _commit(self, tx: Transaction) -> None:
        """Write ``tx`` atomically; called with the lock held."""

    def close(self) -> None:
        """Release what the store holds open (a SQL store's pooled connections)."""
        return  # files hold nothing open between calls

    def describe_url(self) -> str:
        """The URL for display: never a password."""
        from stackctl.stores.urls import redact_url

        return redact_url(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Read-modify-write under the lock; commit on normal exit."""
        with self._locked_snapshot() as (state, books):
            tx = Transaction(state, books)
            yield tx
            if tx.changed:
                self._commit(tx)
