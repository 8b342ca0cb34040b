"""The local profile store: ZenML 0.10's YAML layout, byte for byte.

``profiles/<name>/stacks.yaml`` maps component types to names and flavors and
stacks to components; each component lives in
``profiles/<name>/<type-plural>/<component>.yaml``. stackctl's bookkeeping
(serial, lineage, managed resources, custom flavor schemas), its lock and its
commit journal live in ``profiles/<name>/.stackctl/``, which ZenML never reads.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid as uuidlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from stackctl import flavors
from stackctl.errors import ConfigFileError, Location, StaleStateError, StoreError
from stackctl.model import Component, ComponentType, CustomFlavor, ProfileState, Stack
from stackctl.stores import files, yamlio
from stackctl.stores.base import (
    Bookkeeping,
    LazyRecords,
    ProfileStore,
    Transaction,
    no_books_to_fill,
    parse_bookkeeping,
    seed_books,
    seed_transaction,
)
from stackctl.stores.lock import T, consistent_read, store_lock
from stackctl.stores.read_cache import ReadCache
from stackctl.stores.urls import path_from_file_url

_ZENML_LISTS = ("projects", "role_assignments", "roles", "teams")


class LocalStore(ProfileStore):
    store_type = "local"

    def __init__(self, profile: str, url: str) -> None:
        super().__init__(profile, url)
        self.root = Path(path_from_file_url(url))
        self.meta = self.root / ".stackctl"
        self.stacks_file = self.root / "stacks.yaml"

    # -- reading -------------------------------------------------------------

    def exists(self) -> bool:
        if self.meta.is_dir():
            self._recover()  # a commit (a creation too) a crash interrupted is finished first
        return self.stacks_file.exists()

    def _recover(self) -> None:
        dirs = [self.root, self.meta, *(self.root / t.plural for t in ComponentType)]
        if (self.meta / files.JOURNAL_NAME).exists() or any(map(files.has_temp_files, dirs)):
            with store_lock(self.meta, f"profile '{self.profile}'"):
                files.recover(self.meta, dirs, root=self.root)

    def _require(self) -> None:
        if not self.exists():
            raise StoreError(
                f"The store of profile '{self.profile}' is missing at '{self.root}'.",
                hint="Delete and re-create the profile, or restore its directory.",
            )

    def _consistent(self, read: Callable[[], T]) -> T:
        return consistent_read(self.meta, f"profile '{self.profile}'", self._recover, read)

    def load(self) -> ProfileState:
        self._require()  # recovers too
        return self._consistent(self._read_state)

    def load_with_books(self) -> tuple[ProfileState, Bookkeeping]:
        """State and bookkeeping of one consistent read (``state.json`` parsed once)."""
        self._require()

        def read() -> tuple[ProfileState, Bookkeeping]:
            # the files first: the read cache's entries are freed before state.json is
            # parsed, so the two never take memory at once (the peak RSS of a plan)
            raw, comps = self._read_files()
            data, signature = self._signed_state_file(records=False)
            books = self._books(data)
            if data.pop("applied", None):  # read when asked for (a drifted field, a rename)
                books = replace(books, applied=LazyRecords(lambda: self._records(signature)))
            return self._assemble(raw, comps, data), books

        return self._consistent(read)

    def _records(self, signature: tuple[int, ...]) -> Mapping[str, Mapping[str, Any]]:
        """The last-applied records of ``state.json``, if it is still the file of that
        ``signature`` (our commits replace it: a new inode); else the plan is stale."""
        data, now = self._signed_state_file()
        if now != signature:
            raise StaleStateError(
                f"The store of profile '{self.profile}' changed while it was being read.",
                hint="Run the command again.")
        return self._books(data).applied

    def load_stacks(self) -> Mapping[str, Stack]:
        """Only ``stacks.yaml``: what `stack list` needs, without any component file."""
        self._require()
        return self._consistent(lambda: self._stacks(yamlio.read_mapping(self.stacks_file)))

    def _read_state(self, state: dict[str, Any] | None = None) -> ProfileState:
        """The profile's state; ``state``: ``state.json`` already read (else read here)."""
        raw, comps = self._read_files()
        return self._assemble(raw, comps, self._state_file() if state is None else state)

    def _read_files(self) -> tuple[dict[str, Any], dict[tuple[ComponentType, str], Component]]:
        """``stacks.yaml`` and every component file it lists (through the read cache)."""
        with ReadCache.for_store(self.root) as cache:
            raw = cache.read(self.stacks_file)
            listing = yamlio.expect(raw.get("stack_components") or {}, dict, self.stacks_file,
                                    "stack_components")
            comps: dict[tuple[ComponentType, str], Component] = {}
            read = cache.read
            for type_name, members in listing.items():
                ctype = self._type(type_name)
                for listed, flavor in (yamlio.expect(members or {}, dict, self.stacks_file,
                                                     f"stack_components.{type_name}")).items():
                    name = str(listed)
                    data = read(self._component_file(ctype, name))
                    data.pop("name", None)
                    uid = str(data.pop("uuid", "") or "")
                    # a few flavors, 100,000 components: one string each
                    comps[(ctype, name)] = Component(type=ctype, name=name,
                                                     flavor=sys.intern(str(flavor)),
                                                     uuid=uid, config=data)
        return raw, comps

    def _assemble(self, raw: dict[str, Any], comps: dict[tuple[ComponentType, str], Component],
                  state: dict[str, Any]) -> ProfileState:
        stacks = self._stacks(raw)
        schemas = state.get("flavor_schemas", {})
        found: dict[tuple[ComponentType, str], CustomFlavor] = {}
        for entry in yamlio.expect(raw.get("stack_component_flavors") or [], list,
                                   self.stacks_file, "stack_component_flavors"):
            ctype = self._type(str(entry.get("type")))
            name = str(entry.get("name"))
            found[(ctype, name)] = CustomFlavor(
                type=ctype, name=name, source=str(entry.get("source", "")),
                config_schema=schemas.get(f"{ctype.value}/{name}", {"type": "object"}),
            )
        return ProfileState(components=comps, stacks=stacks, flavors=found)

    def _stacks(self, raw: Mapping[str, Any]) -> dict[str, Stack]:
        stacks: dict[str, Stack] = {}
        for name, raw_members in (yamlio.expect(raw.get("stacks") or {}, dict, self.stacks_file,
                                                "stacks")).items():
            members = yamlio.expect(raw_members or {}, dict, self.stacks_file, f"stacks.{name}")
            stacks[str(name)] = Stack(
                name=str(name), components={self._type(t): str(c) for t, c in members.items()}
            )
        return stacks

    def _type(self, text: str) -> ComponentType:
        try:
            return ComponentType(text)
        except ValueError:
            raise ConfigFileError(
                f"Unknown stack component type '{text}'.", location=Location(str(self.stacks_file)),
                hint="This store may come from a newer ZenML; stackctl will not modify it.",
            ) from None

    def _component_file(self, ctype: ComponentType, name: str) -> str:
        """The component's file as a string (no Path object per file of 10,000)."""
        return f"{self.root}/{ctype.plural}/{name}.yaml"

    def _state_file(self) -> dict[str, Any]:
        return self._signed_state_file()[0]

    def _signed_state_file(self, *, records: bool = True
                           ) -> tuple[dict[str, Any], tuple[int, ...]]:
        """``state.json`` and its (inode, size, mtime, ctime) when read ((), if absent).

        ``records=False``: its last-applied records are not kept — ``applied`` is then
        ``{}`` if it held none, else ``{"": {}}`` (a marker: "read them later").
        """
        path = self.meta / "state.json"
        try:
            with open(path, "rb") as handle:
                st = os.fstat(handle.fileno())
                raw = handle.read()
            # decoded as json.loads decodes bytes; the bytes go before any parse (the
            # file is tens of MiB at 100,000 components: one copy at a time)
            text = raw.decode(json.detect_encoding(raw), "surrogatepass")
            del raw
            data = (None if records else _without_records(text)) or json.loads(text)
        except FileNotFoundError:
            return {}, ()
        except (OSError, ValueError, RecursionError) as exc:
            raise ConfigFileError(f"Cannot read stackctl's bookkeeping: {exc}.",
                                  location=Location(str(path))) from None
        parse_bookkeeping(data, str(path))  # checks every field's type
        return dict(data), (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def bookkeeping(self) -> Bookkeeping:
        return self._consistent(self._books)

    def _books(self, data: dict[str, Any] | None = None) -> Bookkeeping:
        """The bookkeeping; ``data``: ``state.json`` already read (else read here)."""
        data = self._state_file() if data is None else data
        if not data:
            # A store made by ZenML itself: stackctl has applied nothing yet.
            return Bookkeeping(lineage="", serial=0, managed={})
        books = parse_bookkeeping(data, str(self.meta / "state.json"))
        return Bookkeeping(lineage=books.lineage, serial=books.serial, managed=books.managed,
                           owners=books.owners, applied=books.applied)

    # -- writing -------------------------------------------------------------

    def initialize(self, seed: ProfileState) -> None:
        self.create(seed, {})

    def create(self, seed: ProfileState, managed: Mapping[str, str],
               owners: Mapping[str, str] | None = None,
               applied: Mapping[str, Mapping[str, Any]] | None = None, *,
               before_books: Callable[[], None] = no_books_to_fill) -> None:
        """One commit: the store appears whole (seed and bookkeeping) or not at all.
        ``before_books`` runs while the component files are being written."""
        self.root.mkdir(parents=True, exist_ok=True)
        with store_lock(self.meta, f"profile '{self.profile}'"):
            files.recover(self.meta, [self.root, self.meta,
                                      *(self.root / t.plural for t in ComponentType)],
                          root=self.root)
            if self.stacks_file.exists():
                raise StoreError(f"The store of profile '{self.profile}' already exists at "
                                 f"'{self.root}'.")
            tx = seed_transaction(seed, {}, str(uuidlib.uuid4()))

            def books() -> None:
                before_books()
                seed_books(tx, managed, owners, applied)

            self._write(tx, fresh=True, before_books=books)

    @contextmanager
    def _locked_snapshot(self) -> Iterator[tuple[ProfileState, Bookkeeping]]:
        self._require()
        with store_lock(self.meta, f"profile '{self.profile}'"):
            files.recover(self.meta, [self.root, self.meta,
                                      *(self.root / t.plural for t in ComponentType)],
                          root=self.root)
            data = self._state_file()
            yield self._read_state(data), self._books(data)

    def _commit(self, tx: Transaction) -> None:
        self._write(tx, fresh=False)

    def _write(self, tx: Transaction, *, fresh: bool,
               before_books: Callable[[], None] = no_books_to_fill) -> None:
        """Commit ``tx``; its bookkeeping is read (state.json written) only once the
        other files are under way, after ``before_books``."""
        before, after = tx.before, tx.after
        changed = {self._component_file(*key): comp for key, comp in after.components.items()
                   if before.components.get(key) != comp}
        writes: dict[str, bytes] = {}
        deletes: list[str] = []
        for key in before.components.keys() - after.components.keys():
            deletes.append(self._component_file(*key))
        if fresh or self._index_changed(before, after):
            raw = {} if fresh else yamlio.read_mapping(self.stacks_file)
            writes[str(self.stacks_file)] = yamlio.dump(self._stacks_document(raw, after))
        if fresh:
            writes[str(self.root / "pipeline_runs.yaml")] = yamlio.dump({"pipeline_runs": {}})
        state = {} if fresh else self._state_file()

        def state_file() -> dict[str, bytes]:
            before_books()
            state.update(
                lineage=tx.books_before.lineage or str(uuidlib.uuid4()),
                serial=tx.books_before.serial + 1,
                managed=tx.managed,
                owners=tx.owners,
                applied=tx.applied,
                flavor_schemas={f"{t.value}/{n}": dict(f.config_schema)
                                for (t, n), f in sorted(after.flavors.items())},
            )
            # compact: json's C encoder (indent= takes the pure-Python one, 3x slower here)
            return {str(self.meta / "state.json"): json.dumps(
                state, sort_keys=True, separators=(",", ":")).encode()}

        # component files rendered as they are written (a helper may write the first
        # while the last are rendered)
        files.commit_files(self.meta, files.Rendered(changed, _component_file_bytes, writes),
                           deletes, private=self._is_private(after), meanwhile=state_file)

    def _is_private(self, after: ProfileState) -> Callable[[str], bool]:
        secret_paths = {
            self._component_file(*key)
            for key, comp in after.components.items()
            if flavors.has_secret_values(comp.type, comp.flavor, comp.config, after.flavors)
        }
        return lambda path: path in secret_paths

    @staticmethod
    def _index_changed(before: ProfileState, after: ProfileState) -> bool:
        def index(s: ProfileState) -> Any:
            return ({k: c.flavor for k, c in s.components.items()},
                    {n: dict(st.components) for n, st in s.stacks.items()},
                    {k: f.source for k, f in s.flavors.items()})
        return bool(index(before) != index(after))

    @staticmethod
    def _stacks_document(raw: dict[str, Any], state: ProfileState) -> dict[str, Any]:
        doc = dict(raw)
        for key in _ZENML_LISTS:
            doc.setdefault(key, [])
        doc.setdefault("team_assignments", {})
        doc.setdefault("users", [{"creation_date": datetime.now().isoformat(),
                                  "id": str(uuidlib.uuid4()), "name": "default"}])
        listing: dict[str, dict[str, str]] = {}
        for (ctype, name), comp in sorted(state.components.items()):
            listing.setdefault(ctype.value, {})[name] = comp.flavor
        doc["stack_components"] = listing
        doc["stacks"] = {
            name: {t.value: c for t, c in sorted(s.components.items())}
            for name, s in sorted(state.stacks.items())
        }
        doc["stack_component_flavors"] = [
            {"integration": None, "name": f.name, "source": f.source, "type": f.type.value}
            for _, f in sorted(state.flavors.items())
        ]
        return doc

    def destroy(self) -> None:
        import shutil

        if self.root.exists():
            with store_lock(self.meta, f"profile '{self.profile}'"):
                shutil.rmtree(self.root)


_GONE = object()
_APPLIED_FIRST = re.compile(r'\s*\{\s*"applied"\s*:\s*')


def _component_file_bytes(comp: Component) -> bytes:
    """A component's file in ZenML's layout: its config, name and uuid."""
    return yamlio.dump({**dict(comp.config), "name": comp.name, "uuid": comp.uuid})


def _without_records(text: str) -> dict[str, Any] | None:
    """``state.json`` parsed without building its last-applied records (~1 KiB each).

    stackctl writes the file with sorted keys, so ``applied`` comes first: it is
    parsed with every object dropped as soon as it is built, then the rest normally.
    The records must each be an object (as ``parse_bookkeeping`` checks); anything
    unexpected gives None, and the caller parses the file whole (with its errors).
    """
    start = _APPLIED_FIRST.match(text)
    if start is None:
        return None
    last: list[Any] = []

    def drop(obj: dict[str, Any]) -> Any:
        last[:] = [obj]  # the last object built is ``applied`` itself
        return _GONE

    try:
        gone, end = json.JSONDecoder(object_hook=drop).raw_decode(text, start.end())
        # the rest, with an empty ``applied`` in place of the records (one copy of it)
        data = json.loads(text[:start.end()] + "{}" + text[end:])
    except (ValueError, RecursionError):
        return None
    applied = last[0] if last else None
    if (gone is not _GONE or not isinstance(data, dict) or data.get("applied") != {}
            or not isinstance(applied, dict) or any(v is not _GONE for v in applied.values())):
        return None
    data["applied"] = {"": {}} if applied else {}
    return data
