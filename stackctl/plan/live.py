"""A snapshot of the live state a plan compares against.

Only what the manifests touch is read: the profiles they name (and those
stackctl manages, for pruning), the global config, and their repositories.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from stackctl.config import repository as repo_config
from stackctl.config.global_config import GlobalConfig
from stackctl.model import Address, ProfileConfig, ProfileState
from stackctl.stores.base import Bookkeeping, ProfileStore
from stackctl.workspace import Workspace, open_store


@dataclass
class LiveProfile:
    config: ProfileConfig | None
    state: ProfileState | None = None
    books: Bookkeeping | None = None
    store: ProfileStore | None = None


@dataclass
class Live:
    config: GlobalConfig
    books: Bookkeeping
    profiles: dict[str, LiveProfile] = field(default_factory=dict)
    repositories: dict[str, repo_config.RepositorySettings | None] = field(default_factory=dict)
    root: Path | None = None  # the global config directory (where default stores live)


def read_live(ws: Workspace, profiles: Iterable[str], repositories: Iterable[str]) -> Live:
    cfg = ws.config()
    books = ws.globals.bookkeeping()
    live = Live(config=cfg, books=books, root=ws.root)
    recorded = [Address.parse(a) for a in books.managed]
    managed_profiles = {a.name for a in recorded if a.kind == "profile"}
    for name in sorted({*profiles, *managed_profiles}):
        pc = cfg.profile(name)
        if pc is None:
            live.profiles[name] = _unlisted(ws, name)
            continue
        store = open_store(pc)
        live.profiles[name] = LiveProfile(pc, *store.load_with_books(), store)
    managed_repos = {a.name for a in recorded if a.kind == "repository"}
    for path in sorted({*repositories, *managed_repos}):
        root = Path(path)
        live.repositories[path] = (repo_config.read(root) if repo_config.is_repository(root)
                                   else None)
    return live


def _unlisted(ws: Workspace, name: str) -> LiveProfile:
    """A profile the global config does not list; its local store may still exist.

    An apply interrupted after writing a new profile's store (and before the
    global config) leaves one: planning against it lets the next apply finish.
    """
    from stackctl.stores.local import LocalStore

    store = LocalStore(name, ws.default_store_url(name, "local"))
    if not store.exists():
        return LiveProfile(None)
    return LiveProfile(None, *store.load_with_books(), store)
