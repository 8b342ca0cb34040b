"""Shared pytest fixtures: every test runs isolated from the real home directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private global config dir, no repository env vars, plain output."""
    config = tmp_path_factory.mktemp("stackctl-config")
    monkeypatch.setenv("STACKCTL_CONFIG_PATH", str(config))
    for var in ("ZENML_CONFIG_PATH", "ZENML_REPOSITORY_PATH", "STACKCTL_REPOSITORY_PATH",
                "STACKCTL_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    yield config
