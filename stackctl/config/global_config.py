"""The global config directory: ``config.yaml`` with profiles and the active one.

Location: ``$STACKCTL_CONFIG_PATH``, else ``$ZENML_CONFIG_PATH``, else ZenML
0.x's default (``click.get_app_dir("zenml")``). The file keeps ZenML 0.10's
keys; stackctl's own records (serial, lineage, managed) sit in ``.stackctl/``.
"""

from __future__ import annotations

import json
import os
import uuid as uuidlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stackctl.errors import ConfigFileError, Location
from stackctl.model import ProfileConfig
from stackctl.stores import files, yamlio
from stackctl.stores.base import Bookkeeping, parse_bookkeeping
from stackctl.stores.lock import T, consistent_read, store_lock

# The layout version we read and write: ZenML 0.10 accepts it as its own.
ZENML_LAYOUT_VERSION = "0.10.0"


def config_dir() -> Path:
    for var in ("STACKCTL_CONFIG_PATH", "ZENML_CONFIG_PATH"):
        value = os.environ.get(var)
        if value:
            return Path(value).expanduser().resolve()
    import typer

    return Path(typer.get_app_dir("zenml")).resolve()


def _is_local_store(directory: Path) -> bool:
    """A deleted local profile's store (or its aside copy): the only thing outside the
    config directory a global commit may remove."""
    return (directory / ".stackctl").is_dir() and not directory.is_symlink()


def _is_profile_store(directory: Path) -> bool:
    """A renamed profile's store in its default directory (a local store, or a SQL
    profile's SQLite database): what a global commit may move."""
    from stackctl.workspace import SQLITE_FILE

    return _is_local_store(directory) or (
        (directory / SQLITE_FILE).is_file() and not directory.is_symlink())


@dataclass(frozen=True)
class GlobalConfig:
    activated_profile: str | None
    profiles: Mapping[str, ProfileConfig]
    user_id: str
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys we keep but do not use

    def profile(self, name: str) -> ProfileConfig | None:
        return self.profiles.get(name)


class GlobalConfigStore:
    """Reads and atomically rewrites ``config.yaml`` under the global lock."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or config_dir()
        self.path = self.root / "config.yaml"
        self.meta = self.root / ".stackctl"

    def exists(self) -> bool:
        return self.path.exists()

    def _recover(self) -> None:
        """Finish a commit a crash interrupted, so a reader never sees half of one."""
        if (self.meta / files.JOURNAL_NAME).exists() or any(
            d.is_dir() and any(d.glob(".stackctl-tmp-*")) for d in (self.root, self.meta)
        ):
            with store_lock(self.meta, "the global configuration"):
                files.recover(self.meta, [self.root, self.meta], root=self.root,
                              may_trash=_is_local_store, may_move=_is_profile_store)

    def _consistent(self, read: Callable[[], T]) -> T:
        return consistent_read(self.meta, "the global configuration", self._recover, read)

    def load(self) -> GlobalConfig:
        return self._consistent(self._load)

    def _load(self) -> GlobalConfig:
        raw = yamlio.read_mapping(self.path, missing_ok=True)
        profiles: dict[str, ProfileConfig] = {}
        entries = yamlio.expect(raw.get("profiles") or {}, dict, self.path, "profiles")
        for name, raw_entry in entries.items():
            entry = yamlio.expect(raw_entry or {}, dict, self.path, f"profiles.{name}")
            if not entry.get("store_url") or not entry.get("store_type"):
                raise ConfigFileError(
                    f"Profile '{name}' has no store_type/store_url.",
                    location=Location(str(self.path)),
                    hint="Fix or restore the file by hand; stackctl will not overwrite it.",
                )
            profiles[str(name)] = ProfileConfig(
                name=str(name), store_type=str(entry["store_type"]),
                store_url=str(entry["store_url"]),
                active_stack=entry.get("active_stack"),
                active_user=str(entry.get("active_user") or "default"),
            )
        extra = {k: v for k, v in raw.items()
                 if k not in ("activated_profile", "profiles", "user_id")}
        return GlobalConfig(
            activated_profile=raw.get("activated_profile"), profiles=profiles,
            user_id=str(raw.get("user_id") or uuidlib.uuid4()), extra=extra,
        )

    def bookkeeping(self) -> Bookkeeping:
        return self._consistent(self._books)

    def _books(self) -> Bookkeeping:
        path = self.meta / "global.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return Bookkeeping(lineage="", serial=0)
        except (OSError, ValueError, RecursionError) as exc:
            raise ConfigFileError(f"Cannot read stackctl's bookkeeping: {exc}.",
                                  location=Location(str(path))) from None
        return parse_bookkeeping(data, str(path))

    @contextmanager
    def transaction(self) -> Iterator[GlobalTransaction]:
        with store_lock(self.meta, "the global configuration"):
            files.recover(self.meta, [self.root, self.meta], root=self.root,
                              may_trash=_is_local_store, may_move=_is_profile_store)
            books = self._books()
            tx = GlobalTransaction(self._load(), books, fresh=not self.exists())
            yield tx
            if tx.changed:
                self._write(tx)

    def _write(self, tx: GlobalTransaction) -> None:
        cfg = tx.config
        doc: dict[str, Any] = {"analytics_opt_in": True, "user_metadata": None,
                               "version": ZENML_LAYOUT_VERSION}
        doc.update(cfg.extra)
        active = cfg.activated_profile
        if active not in cfg.profiles and cfg.profiles:
            # never `activated_profile: null` (or a missing one) beside profiles: ZenML's
            # own fallback, made explicit once instead of warned about on every command
            active = "default" if "default" in cfg.profiles else sorted(cfg.profiles)[0]
        doc["activated_profile"] = active
        doc["user_id"] = cfg.user_id
        doc["profiles"] = {
            p.name: {"active_stack": p.active_stack, "active_user": p.active_user,
                     "name": p.name, "store_type": p.store_type, "store_url": p.store_url}
            for p in sorted(cfg.profiles.values(), key=lambda p: p.name)
        }
        books = {"lineage": tx.books.lineage or str(uuidlib.uuid4()),
                 "serial": tx.books.serial + 1, "managed": tx.managed, "owners": tx.owners,
                 "applied": tx.applied,
                 "applied_plans": tx.applied_plans[-200:]}
        writes = {self.meta / "global.json": json.dumps(books, indent=1, sort_keys=True).encode()}
        if tx.fresh or tx.config != tx.before:  # bookkeeping-only commits leave ZenML's file be
            writes[self.path] = yamlio.dump(doc)
        files.commit_files(self.meta, writes, [], trash=tx.trash, moves=tx.moves)
        for directory in [*tx.trash, *tx.moves]:  # their read caches (outside the config dir)
            from stackctl.stores.read_cache import ReadCache

            ReadCache.for_store(directory).path.unlink(missing_ok=True)


class GlobalTransaction:
    def __init__(self, config: GlobalConfig, books: Bookkeeping, *, fresh: bool) -> None:
        self.before = config
        self.config = config
        self.books = books
        self.managed: dict[str, str] = dict(books.managed)
        self.owners: dict[str, str] = dict(books.owners)
        self.applied: dict[str, Mapping[str, Any]] = dict(books.applied)
        self.applied_plans: list[str] = list(books.applied_plans)
        self.fresh = fresh
        self.trash: list[Path] = []
        self.moves: dict[Path, Path] = {}

    @property
    def changed(self) -> bool:
        return (self.fresh or self.config != self.before or bool(self.trash) or bool(self.moves)
                or self.managed != dict(self.books.managed)
                or self.owners != dict(self.books.owners)
                or self.applied != dict(self.books.applied)
                or tuple(self.applied_plans) != self.books.applied_plans)

    def put_profile(self, profile: ProfileConfig) -> None:
        self.config = replace(self.config, profiles={**self.config.profiles, profile.name: profile})

    def delete_profile(self, name: str) -> None:
        self.config = replace(self.config, profiles={
            k: v for k, v in self.config.profiles.items() if k != name})

    def destroy_store_dir(self, directory: Path) -> None:
        """Remove a deleted local profile's store directory with this commit."""
        self.trash.append(directory)

    def move_store_dir(self, source: Path, target: Path) -> None:
        """Move a renamed local profile's store directory with this commit."""
        self.moves[source] = target

    def activate_profile(self, name: str | None) -> None:
        self.config = replace(self.config, activated_profile=name)

    def mark_managed(self, address: str, print_: str | None, owner: str | None = None,
                     record: Mapping[str, Any] | None = None) -> None:
        """As ``Transaction.mark_managed``: the fingerprint, owner and last-applied record."""
        from stackctl.stores.base import mark_managed

        mark_managed(self.managed, self.owners, self.applied, address, print_, owner, record)
