"""Context queries never write; first use and repairs happen in explicit operations."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from helpers import snapshot

from stackctl.config import repository as repo_config
from stackctl.context import Context
from stackctl.workspace import Workspace


def _repository(root: Path, profile: str, stack: str) -> repo_config.Discovery:
    (root / repo_config.REPOSITORY_DIR).mkdir(parents=True)
    settings = repo_config.RepositorySettings(root, profile, stack)
    repo_config.write(settings)
    return repo_config.Discovery(settings, None)


def test_active_before_first_use_creates_nothing(config_dir: Path) -> None:
    active = Context().active()
    assert (active.profile, active.stack, active.scope) == ("default", "default", "global")
    assert snapshot(config_dir) == {}


def test_header_before_first_use_creates_nothing(config_dir: Path) -> None:
    from stackctl.cli.output import header

    header(Workspace())
    assert snapshot(config_dir) == {}


def test_active_with_a_deleted_repository_profile_does_not_rewrite_it(
        tmp_path: Path, config_dir: Path) -> None:
    Workspace().ensure_initialized()
    discovery = _repository(tmp_path / "repo", "gone", "main")
    before = snapshot(tmp_path / "repo")
    active = Context(discovery=discovery).active()
    assert (active.profile, active.stack, active.scope) == ("default", "default", "local")
    assert snapshot(tmp_path / "repo") == before


def test_start_switches_a_repository_whose_profile_was_deleted(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    Workspace().ensure_initialized()
    discovery = _repository(tmp_path / "repo", "gone", "main")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="stackctl"):
        active = Workspace(discovery=discovery).start()
    assert (active.profile, active.stack, active.scope) == ("default", "default", "local")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["Profile gone not found. Switching repository to the global active "
                        "profile default"]
    saved = yaml.safe_load((tmp_path / "repo" / ".zen" / "config.yaml").read_text())
    assert (saved["active_profile_name"], saved["active_stack_name"]) == ("default", "default")


def test_first_use_creates_and_activates_the_default_profile(config_dir: Path) -> None:
    Workspace().start()
    config = yaml.safe_load((config_dir / "config.yaml").read_text())
    assert (set(config["profiles"]), config["activated_profile"]) == ({"default"}, "default")
