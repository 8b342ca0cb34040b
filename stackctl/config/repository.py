"""Repository discovery and the local ``.zen/config.yaml`` settings.

A repository is a directory holding ``.zen/``; found through
``$STACKCTL_REPOSITORY_PATH`` / ``$ZENML_REPOSITORY_PATH``, else the current
directory and its parents. Its config names the locally active profile and
stack, which win over the global ones inside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stackctl.errors import AlreadyExistsError
from stackctl.stores import files, yamlio

REPOSITORY_DIR = ".zen"


@dataclass(frozen=True)
class RepositorySettings:
    root: Path
    active_profile_name: str | None
    active_stack_name: str | None

    @property
    def config_path(self) -> Path:
        return self.root / REPOSITORY_DIR / "config.yaml"


@dataclass(frozen=True)
class Discovery:
    """Where we looked and what we found; ``warning`` says why none was used."""

    repository: RepositorySettings | None
    warning: str | None


def env_repository_path() -> str | None:
    return os.environ.get("STACKCTL_REPOSITORY_PATH") or os.environ.get("ZENML_REPOSITORY_PATH")


def is_repository(path: Path) -> bool:
    return (path / REPOSITORY_DIR).is_dir()


def discover(cwd: Path | None = None, explicit: Path | str | None = None) -> Discovery:
    """``explicit`` (a path given in code) wins over the env var, which wins over ``cwd``."""
    explicit = explicit or env_repository_path()
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if is_repository(root):
            return Discovery(read(root), None)
        return Discovery(None, (
            f"Unable to find stackctl repository at path '{root}'. Make sure to create a "
            "stackctl repository by calling stackctl init when specifying an explicit "
            "repository path in code or via the environment variable "
            "'STACKCTL_REPOSITORY_PATH'."))
    start = (cwd or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        if is_repository(candidate):
            return Discovery(read(candidate), None)
    return Discovery(None, (
        f"Unable to find stackctl repository in your current working directory ({start}) "
        "or any parent directories. If you want to use an existing repository which is in "
        "a different location, set the environment variable 'STACKCTL_REPOSITORY_PATH'. "
        "If you want to create a new repository, run stackctl init."))


def read(root: Path) -> RepositorySettings:
    # .zen has no lock: a write a crash interrupted can only leave a temp file
    files.sweep_dead_writers(root / REPOSITORY_DIR)
    data = yamlio.read_mapping(root / REPOSITORY_DIR / "config.yaml", missing_ok=True)
    profile = data.get("active_profile_name")
    stack = data.get("active_stack_name")
    return RepositorySettings(root=root, active_profile_name=str(profile) if profile else None,
                              active_stack_name=str(stack) if stack else None)


def write(settings: RepositorySettings) -> None:
    raw = yamlio.read_mapping(settings.config_path, missing_ok=True)
    raw.setdefault("project_id", None)
    raw.setdefault("project_name", None)
    raw["active_profile_name"] = settings.active_profile_name
    raw["active_stack_name"] = settings.active_stack_name
    files.atomic_write(settings.config_path, yamlio.dump(raw))


def create(root: Path, profile: str, stack: str | None) -> RepositorySettings:
    root = root.resolve()
    if is_repository(root):
        raise AlreadyExistsError(f"Found existing stackctl repository at path '{root}'.")
    (root / REPOSITORY_DIR).mkdir(parents=True)
    settings = RepositorySettings(root, profile, stack)
    write(settings)
    return settings
