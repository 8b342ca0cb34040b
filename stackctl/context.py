"""Where am I: the active profile and stack, and where that comes from.

The same answer for the CLI, the Python API and the compiler: the
repository's local settings win over the global config. Everything here is a
query; nothing writes (first use and repairs live in ``stackctl.workspace``);
a warning goes through the ``stackctl`` logger.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from stackctl.config import repository as repo_config
from stackctl.config.global_config import GlobalConfig, GlobalConfigStore, config_dir
from stackctl.defaults import DEFAULT
from stackctl.model import ProfileConfig

log = logging.getLogger("stackctl")


@dataclass(frozen=True)
class Active:
    """The active profile and stack here, and whether they come from a repository."""

    profile: str
    stack: str | None
    scope: str  # "global" or "local"
    repository: repo_config.RepositorySettings | None


class Context:
    """``discovery`` pins the repository context (the Python API decides it once)."""

    def __init__(self, root: Path | None = None, cwd: Path | None = None,
                 discovery: repo_config.Discovery | None = None) -> None:
        self.root = root or config_dir()
        self.cwd = cwd
        self.globals = GlobalConfigStore(self.root)
        if discovery is not None:
            self.__dict__["discovery"] = discovery

    @cached_property
    def discovery(self) -> repo_config.Discovery:
        return repo_config.discover(self.cwd)

    def config(self) -> GlobalConfig:
        return self.globals.load()

    def active(self) -> Active:
        """A repository naming a profile that is gone falls back to the global one."""
        cfg = self.config()
        repo = self.discovery.repository
        if repo is not None and repo.active_profile_name:
            if repo.active_profile_name in cfg.profiles:
                return Active(repo.active_profile_name, repo.active_stack_name, "local", repo)
            fallback = self._global_profile(cfg)
            return Active(fallback.name, fallback.active_stack, "local", repo)
        profile = self._global_profile(cfg)
        return Active(profile.name, profile.active_stack, "global", repo)

    def global_profile(self) -> ProfileConfig:
        """The globally active profile, whatever the repository says."""
        return self._global_profile(self.config())

    def dangling_repository_profile(self) -> str | None:
        """The profile the repository names if it no longer exists."""
        repo = self.discovery.repository
        if repo is None or not repo.active_profile_name:
            return None
        return None if repo.active_profile_name in self.config().profiles \
            else repo.active_profile_name

    def _global_profile(self, cfg: GlobalConfig) -> ProfileConfig:
        name = cfg.activated_profile
        if name and name in cfg.profiles:
            return cfg.profiles[name]
        if not cfg.profiles:  # before first use: the default profile it will create
            return ProfileConfig(DEFAULT, "local", "", DEFAULT)
        fallback = DEFAULT if DEFAULT in cfg.profiles else sorted(cfg.profiles)[0]
        log.warning("The active profile '%s' does not exist; using '%s'.", name, fallback)
        return cfg.profiles[fallback]
