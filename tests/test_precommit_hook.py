"""The `stackctl-validate` hook, run by the real `pre-commit try-repo` in a sample repository.

try-repo installs the hook's repository into its own virtualenv (from PyPI for
the dependencies: needs the network), so the project's working tree is copied
into a throwaway git repository first: what is tested is what is on disk now.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[1]
PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

GOOD = """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: s3}
spec: {type: artifact_store, flavor: s3, config: {path: s3://ml/zenml}}
"""
STACK = """\
apiVersion: stackctl/v1
kind: Stack
metadata: {name: cloud}
spec:
  components:
    orchestrator: default
    artifact_store: s3
    metadata_store: default
"""
BAD = """\
apiVersion: stackctl/v1
kind: Stack
metadata: {name: broken}
spec:
  components:
    orchestrator: default
    artifact_store: s4
    metadata_store: default
"""


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def _commit_all(repo: Path) -> None:
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "snapshot", "--allow-empty", cwd=repo)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's hook file and package sources, committed in a fresh git repository."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(PROJECT / name, repo / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("stackctl", "schemas", "templates"):
        shutil.copytree(PROJECT / name, repo / name, ignore=ignore)
    _git("init", "-q", cwd=repo)
    _commit_all(repo)
    return repo


def _try_repo(hook_repo: Path, sample: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(hook_repo), "stackctl-validate", "--all-files",
         "--color", "never"],
        cwd=sample, capture_output=True, text=True, check=False, timeout=900,
        env={**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home)})


def test_hook_definition() -> None:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    hook, = hooks
    assert hook["id"] == "stackctl-validate"
    assert hook["entry"] == "stackctl validate"
    assert hook["language"] == "python"
    # cross-file references need the whole set, not just the changed files
    assert hook["pass_filenames"] is False
    import re

    files = re.compile(hook["files"])
    for name in ("a.yaml", "dir/b.yml", "c.yaml.j2", "d.yml.j2"):
        assert files.search(name), name
    for name in ("e.json", "f.yaml.bak", "g.j2"):
        assert not files.search(name), name


def test_try_repo_with_a_good_and_a_bad_manifest(hook_repo: Path, tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    (sample / "manifests").mkdir(parents=True)
    (sample / "stackctl.yaml").write_text("manifests: [manifests]\n")
    (sample / "manifests" / "components.yaml").write_text(GOOD)
    (sample / "manifests" / "stacks.yaml").write_text(STACK)  # refers to another file
    (sample / "docker-compose.yml").write_text("services: {db: {image: postgres}}\n")
    _git("init", "-q", cwd=sample)
    _commit_all(sample)
    home = tmp_path / "pre-commit-home"

    good = _try_repo(hook_repo, sample, home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "stackctl validate" in good.stdout
    assert "Passed" in good.stdout

    (sample / "manifests" / "bad.yaml").write_text(BAD)
    _commit_all(sample)
    bad = _try_repo(hook_repo, sample, home)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert ("manifests/bad.yaml:7:21: error: Unable to find stack component (type: "
            "artifact_store) with name 's4'. [stack-unknown-component]") in bad.stdout
    assert "1 problem." in bad.stdout
    assert "components.yaml" not in bad.stdout  # the good files stay quiet
    assert "stacks.yaml" not in bad.stdout
