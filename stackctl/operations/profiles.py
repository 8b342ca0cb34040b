"""Profile operations: create, activate, delete."""

from __future__ import annotations

import logging
from pathlib import Path

from stackctl.config import repository as repo_config
from stackctl.errors import IntegrityError, NotFoundError
from stackctl.model import ProfileConfig
from stackctl.stores.urls import env_url, path_from_file_url, url_from_environment
from stackctl.workspace import Workspace

log = logging.getLogger("stackctl")


def create(ws: Workspace, name: str, store_type: str = "local",
           url: str | None = None, *, url_from_env: str | None = None) -> ProfileConfig:
    """``url_from_env``: the URL is read from that env var at each use, never stored."""
    if url_from_env:
        url_from_environment(url_from_env)  # fail now if unset
        url = env_url(url_from_env)
    ws.ensure_initialized()
    return ws.create_profile(name, store_type, url)


def activate(ws: Workspace, name: str, *, global_: bool = False, announce: bool = True) -> None:
    """Inside a repository only its local setting changes, unless ``global_``."""
    active = ws.active()
    cfg = ws.config()
    if name not in cfg.profiles:
        raise NotFoundError(f"Error activating profile: \"Profile '{name}' not found.\".",
                            hint="See `stackctl profile list`.")
    repo = active.repository
    if repo is not None and not global_:
        if repo.active_profile_name == name:
            if announce:
                log.info("Profile '%s' is already active.", name)
            return
        repo_config.write(repo_config.RepositorySettings(
            repo.root, name, cfg.profiles[name].active_stack))
    else:
        with ws.globals.transaction() as tx:
            tx.activate_profile(name)
    if announce:
        log.info("Active profile changed to: '%s'", name)


def delete(ws: Workspace, name: str) -> None:
    ws.ensure_initialized()
    cfg = ws.config()
    profile = cfg.profile(name)
    if profile is None:
        raise NotFoundError(f"Profile '{name}' not found.", hint="See `stackctl profile list`.")
    if cfg.activated_profile == name:
        raise IntegrityError(
            f"Profile '{name}' cannot be deleted because it's globally active.",
            hint="Choose a different active global profile first by running "
                 "'stackctl profile set --global PROFILE'.")
    with ws.globals.transaction() as tx:
        if tx.config.activated_profile == name:  # re-checked under the lock
            raise IntegrityError(f"Profile '{name}' cannot be deleted because it's globally "
                                 "active.")
        tx.delete_profile(name)
        if profile.store_type == "local":
            # removed in the same commit as the config entry: a crash cannot orphan it.
            # A SQL store may be shared by a team: never dropped here.
            tx.destroy_store_dir(Path(path_from_file_url(profile.store_url)))
    log.info("Deleted profile '%s'.", name)


def shown_url(profile: ProfileConfig) -> str:
    """A profile's store URL as shown to people: any password masked."""
    from stackctl.stores.urls import redact_url

    return redact_url(profile.store_url)


def migrate(ws: Workspace, name: str) -> tuple[str | None, str] | None:
    """Upgrade profile NAME's SQL store to this stackctl's schema: (before, after)
    revisions; None when its store has no schema (a local store)."""
    from stackctl.stores.sql import SqlStore

    store = ws.store(name)
    if not isinstance(store, SqlStore):
        return None
    return store.migrate()
