"""The workspace: global config + repository context + profile stores.

It answers "which profile and stack are active here, and from where" the same
way for the CLI, the Python API and the compiler, creates the default profile
on first use, and opens the right store for a profile. Human messages go
through the ``stackctl`` logger; this module never prints.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from stackctl.config import repository as repo_config
from stackctl.config.global_config import GlobalConfig, GlobalConfigStore, config_dir
from stackctl.errors import NotFoundError, StoreError
from stackctl.model import Component, ComponentType, ProfileConfig, ProfileState, Stack
from stackctl.stores.base import ProfileStore
from stackctl.stores.urls import file_url

log = logging.getLogger("stackctl")

DEFAULT = "default"


@dataclass(frozen=True)
class Active:
    """The active profile and stack here, and whether they come from a repository."""

    profile: str
    stack: str | None
    scope: str  # "global" or "local"
    repository: repo_config.RepositorySettings | None


def open_store(profile: ProfileConfig) -> ProfileStore:
    if profile.store_type == "local":
        from stackctl.stores.local import LocalStore

        return LocalStore(profile.name, profile.store_url)
    if profile.store_type == "sql":
        from stackctl.stores.sql import SqlStore

        return SqlStore(profile.name, profile.store_url)
    raise StoreError(f"Profile '{profile.name}' has unknown store type '{profile.store_type}'.",
                     hint="Known store types: local, sql.")


def default_state(root: Path) -> ProfileState:
    """The default stack every new profile starts with (ZenML's)."""
    art_uuid = str(uuidlib.uuid4())
    local_store = root / "local_stores" / art_uuid
    comps = [
        Component(ComponentType.ORCHESTRATOR, DEFAULT, "local", str(uuidlib.uuid4()), {}),
        Component(ComponentType.METADATA_STORE, DEFAULT, "sqlite", str(uuidlib.uuid4()),
                  {"upgrade_migration_enabled": True, "uri": str(local_store / "metadata.db")}),
        Component(ComponentType.ARTIFACT_STORE, DEFAULT, "local", art_uuid,
                  {"path": str(local_store)}),
    ]
    stack = Stack(DEFAULT, {c.type: c.name for c in comps})
    return ProfileState(components={c.key: c for c in comps}, stacks={DEFAULT: stack})


class Workspace:
    """``discovery`` pins the repository context (the Python API decides it once)."""

    def __init__(self, root: Path | None = None, cwd: Path | None = None,
                 discovery: repo_config.Discovery | None = None) -> None:
        self.root = root or config_dir()
        self.cwd = cwd
        self.globals = GlobalConfigStore(self.root)
        if discovery is not None:
            self.__dict__["discovery"] = discovery

    # -- context ---------------------------------------------------------------

    @cached_property
    def discovery(self) -> repo_config.Discovery:
        return repo_config.discover(self.cwd)

    def config(self) -> GlobalConfig:
        return self.globals.load()

    def ensure_initialized(self) -> None:
        """First use: create and activate the ``default`` profile (ZenML's messages)."""
        if self.globals.exists() and self.config().profiles:
            return
        log.info("Creating default profile...")
        self.create_profile(DEFAULT, "local", None, announce=False)
        with self.globals.transaction() as tx:
            tx.activate_profile(DEFAULT)
        log.info("Created and activated default profile.")

    def active(self) -> Active:
        self.ensure_initialized()
        cfg = self.config()
        repo = self.discovery.repository
        if repo is not None and repo.active_profile_name:
            if repo.active_profile_name in cfg.profiles:
                return Active(repo.active_profile_name, repo.active_stack_name, "local", repo)
            fallback = self._global_profile(cfg)
            log.warning("Profile %s not found. Switching repository to the global active "
                        "profile %s", repo.active_profile_name, fallback.name)
            repo = repo_config.RepositorySettings(repo.root, fallback.name, fallback.active_stack)
            repo_config.write(repo)
            self.__dict__["discovery"] = repo_config.Discovery(repo, None)
            return Active(fallback.name, fallback.active_stack, "local", repo)
        profile = self._global_profile(cfg)
        return Active(profile.name, profile.active_stack, "global", repo)

    def global_profile(self) -> ProfileConfig:
        """The globally active profile, whatever the repository says."""
        self.ensure_initialized()
        return self._global_profile(self.config())

    def _global_profile(self, cfg: GlobalConfig) -> ProfileConfig:
        name = cfg.activated_profile
        if name and name in cfg.profiles:
            return cfg.profiles[name]
        fallback = DEFAULT if DEFAULT in cfg.profiles else sorted(cfg.profiles)[0]
        log.warning("The active profile '%s' does not exist; using '%s'.", name, fallback)
        return cfg.profiles[fallback]

    def profile(self, name: str | None = None) -> ProfileConfig:
        """A profile by name, or the active one."""
        if name is None:
            name = self.active().profile
        self.ensure_initialized()
        found = self.config().profile(name)
        if found is None:
            raise NotFoundError(f"Profile '{name}' not found.",
                                hint="See `stackctl profile list`.")
        return found

    def store(self, profile: str | None = None) -> ProfileStore:
        return open_store(self.profile(profile))

    def state(self, profile: str | None = None) -> ProfileState:
        return self.store(profile).load()

    # -- profiles (creation is needed by first use, so it lives here) ------------

    def default_store_url(self, name: str, store_type: str) -> str:
        directory = self.root / "profiles" / name
        if store_type == "sql":
            return f"sqlite:///{directory / 'stackctl.db'}"
        return file_url(str(directory))

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
            for comp in state.components.values():
                if comp.type is ComponentType.ARTIFACT_STORE and comp.name == DEFAULT:
                    Path(str(comp.config["path"])).mkdir(parents=True, exist_ok=True)
            store.initialize(state)
            for ctype in (ComponentType.ORCHESTRATOR, ComponentType.METADATA_STORE,
                          ComponentType.ARTIFACT_STORE):
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
