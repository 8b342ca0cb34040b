"""Repository operations: make a directory a repository (``.zen``)."""

from __future__ import annotations

from pathlib import Path

from stackctl.config import repository as repo_config
from stackctl.workspace import Workspace


def initialize(ws: Workspace, root: Path) -> repo_config.RepositorySettings:
    """Create ``root/.zen`` holding the globally active profile and its stack.

    AlreadyExistsError if ``root`` already is a repository.
    """
    profile = ws.global_profile()
    return repo_config.create(root, profile.name, profile.active_stack)
