"""The workspace: the context plus the profiles and stores it opens and creates.

``Context`` answers "which profile and stack are active here"; a
``Workspace`` adds what writes: first use (creating the ``default`` profile,
switching a repository whose profile is gone to the global one), creating
profiles and opening their stores. Human messages go through the
``stackctl`` logger; this module never prints.
"""

from __future__ import annotations

import logging
from pathlib import Path

from stackctl.config import repository as repo_config
from stackctl.context import Active, Context
from stackctl.defaults import DEFAULT, DEFAULT_COMPONENTS, default_state, local_artifact_dirs
from stackctl.errors import NotFoundError, StoreError
from stackctl.model import ProfileConfig, ProfileState
from stackctl.stores.base import ProfileStore
from stackctl.stores.urls import file_url

log = logging.getLogger("stackctl")

__all__ = ["Active", "Workspace", "open_store", "open_workspace"]


SQLITE_FILE = "stackctl.db"  # a SQL profile's database in its default directory


def default_store_dir(root: Path, name: str) -> Path:
    """The directory of a profile's store unless told otherwise: ``root/profiles/NAME``
    (a local store's files, or a SQL profile's SQLite database)."""
    return root / "profiles" / name


def default_store_url(root: Path, name: str, store_type: str) -> str:
    """Where a profile's store lives unless told otherwise (``default_store_dir``)."""
    directory = default_store_dir(root, name)
    if store_type == "sql":
        return f"sqlite:///{directory / SQLITE_FILE}"
    return file_url(str(directory))


def open_store(profile: ProfileConfig) -> ProfileStore:
    if profile.store_type == "local":
        from stackctl.stores.local import LocalStore

        return LocalStore(profile.name, profile.store_url)
    if profile.store_type == "sql":
        from stackctl.stores.sql import SqlStore

        return SqlStore(profile.name, profile.store_url)
    raise StoreError(f"Profile '{profile.name}' has unknown store type '{profile.store_type}'.",
                     hint="Known store types: local, sql.")


def open_workspace(cwd: Path | None = None) -> Workspace:
    """The workspace a command works in, after first use (see ``Workspace.start``)."""
    ws = Workspace(cwd=cwd)
    ws.start()
    return ws


class Workspace(Context):
    # -- first use ---------------------------------------------------------------

    def start(self) -> Active:
        """What ZenML does before any command: create the default profile on first use,
        and switch a repository whose profile was deleted to the global one."""
        self.ensure_initialized()
        self.repair_repository()
        return self.active()

    def ensure_initialized(self) -> None:
        """First use: create and activate the ``default`` profile (ZenML's messages)."""
        if self.globals.exists() and self.config().profiles:
            return
        log.info("Creating default profile...")
        self.create_profile(DEFAULT, "local", None, announce=False)
        with self.globals.transaction() as tx:
            tx.activate_profile(DEFAULT)
        log.info("Created and activated default profile.")

    def repair_repository(self) -> None:
        """A repository naming a deleted profile is switched to the global active one."""
        missing = self.dangling_repository_profile()
        repo = self.discovery.repository
        if missing is None or repo is None:
            return
        fallback = self.global_profile()
        log.warning("Profile %s not found. Switching repository to the global active "
                    "profile %s", missing, fallback.name)
        repo = repo_config.RepositorySettings(repo.root, fallback.name, fallback.active_stack)
        repo_config.write(repo)
        self.__dict__["discovery"] = repo_config.Discovery(repo, None)

    # -- profiles and their stores -------------------------------------------------

    def profile(self, name: str | None = None) -> ProfileConfig:
        """A profile by name, or the active one."""
        self.ensure_initialized()
        if name is None:
            name = self.active().profile
        found = self.config().profile(name)
        if found is None:
            raise NotFoundError(f"Profile '{name}' not found.",
                                hint="See `stackctl profile list`.")
        return found

    def store(self, profile: str | None = None) -> ProfileStore:
        return open_store(self.profile(profile))

    def state(self, profile: str | None = None) -> ProfileState:
        return self.store(profile).load()

    def default_store_url(self, name: str, store_type: str) -> str:
        return default_store_url(self.root, name, store_type)

    def create_profile(self, name: str, store_type: str, url: str | None,
                       *, announce: bool = True, seed: ProfileState | None = None) -> ProfileConfig:
        from stackctl.errors import AlreadyExistsError
        from stackctl.model import check_name

        check_name("profile", name)
        if store_type not in ("local", "sql"):
            raise StoreError(f"Unknown store type '{store_type}'.", hint="Use local or sql.")
        if self.globals.exists() and name in self.config().profiles:
            raise AlreadyExistsError(f"Profile '{name}' already exists.")
        if store_type == "local" and url:
            raise StoreError("A local profile store takes no --url; its files live in the "
                             "global config directory.")
        profile = ProfileConfig(name=name, store_type=store_type,
                                store_url=url or self.default_store_url(name, store_type),
                                active_stack=DEFAULT)
        store = open_store(profile)
        log.info("Initializing profile `%s`...", name)
        if store.exists():
            log.info("Using the existing store at %s.", store.describe_url())
            state = store.load()
        else:
            log.info("Initializing store...")
            state = seed if seed is not None else default_state(self.root)
            for directory in local_artifact_dirs(state):
                directory.mkdir(parents=True, exist_ok=True)
            store.initialize(state)
            for ctype, _ in DEFAULT_COMPONENTS:
                for comp in state.components_of(ctype):
                    log.info("Registered stack component with type '%s' and name '%s'.",
                             ctype.value, comp.name)
            for stack_name in sorted(state.stacks):
                log.info("Registered stack with name '%s'.", stack_name)
        if DEFAULT not in state.stacks:
            profile = ProfileConfig(name, store_type, profile.store_url,
                                    min(state.stacks) if state.stacks else None)
        with self.globals.transaction() as tx:
            tx.put_profile(profile)
        if announce:
            log.info("Profile '%s' successfully created.", name)
        return profile
