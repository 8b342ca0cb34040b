"""`pre-commit run --all-files` with the stackctl-validate hook in a realistic repository.

The repository holds docker-compose, Kubernetes and GitHub workflow YAML beside
the manifests, a templated manifest that reads a secret from ``env``, and no
database anywhere: the hook must pass when the manifests are valid (with and
without a project file), fail with located errors when one is broken, and never
ask for the secret or touch a store. The hook repository is this working tree,
committed into a throwaway git repository and pinned by its commit, as a user
pins a release.
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
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
OTHER_YAML = {
    "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n"
                          "    environment: {POSTGRES_PASSWORD: example}\n",
    "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
                           "spec:\n  replicas: 2\n  template: {spec: {containers: "
                           "[{name: web, image: nginx}]}}\n---\napiVersion: v1\nkind: Service\n"
                           "metadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                "    steps: [{uses: actions/checkout@v4}]\n",
}
COMPONENTS = """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: artifacts}
spec: {type: artifact_store, flavor: s3, config: {path: "s3://{{ vars.bucket }}/zenml"}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: metadata}
spec:
  type: metadata_store
  flavor: mysql
  config: {host: db, database: zenml, username: zenml,
           password: "{{ env.PRECOMMIT_TEST_DB_PASSWORD }}"}
"""
STACK = """\
apiVersion: stackctl/v1
kind: Stack
metadata: {name: cloud}
spec:
  components: {orchestrator: default, artifact_store: artifacts, metadata_store: metadata}
"""
PROJECT_FILE = "environments:\n  dev: {bucket: ml-dev}\n  prod: {bucket: ml-prod}\n"


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def _commit_all(repo: Path) -> None:
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "snapshot", "--allow-empty", cwd=repo)


@pytest.fixture(scope="module")
def hook_rev(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if PRE_COMMIT is None:
        message = "pre-commit is not installed: the hook test cannot run"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(PROJECT / name, repo / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("stackctl", "schemas", "templates"):
        shutil.copytree(PROJECT / name, repo / name, ignore=ignore)
    _git("init", "-q", cwd=repo)
    _commit_all(repo)
    return repo, _git("rev-parse", "HEAD", cwd=repo)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")  # the hook env is built once


def _sample(root: Path, hook: tuple[Path, str], *, project_file: bool) -> Path:
    repo, rev = hook
    config = yaml.safe_load((PROJECT / "examples" / "precommit" / ".pre-commit-config.yaml")
                            .read_text())
    config["repos"][0]["repo"], config["repos"][0]["rev"] = str(repo), rev
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    for name, text in OTHER_YAML.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "manifests").mkdir()
    (root / "manifests" / "components.yaml.j2").write_text(COMPONENTS)
    (root / "manifests" / "stacks.yaml").write_text(STACK)
    if project_file:
        (root / "stackctl.yaml").write_text(PROJECT_FILE)
    else:  # without a project file vars.bucket needs a default
        (root / "manifests" / "components.yaml.j2").write_text(
            COMPONENTS.replace("vars.bucket", "vars.bucket | default('ml')"))
    _git("init", "-q", cwd=root)
    _commit_all(root)
    return root


def _run(sample: Path, home: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PRECOMMIT_TEST_DB_PASSWORD"}
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--all-files", "--color", "never"], cwd=sample,
        capture_output=True, text=True, check=False, timeout=900, stdin=subprocess.DEVNULL,
        env={**env, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "STACKCTL_CONFIG_PATH": str(config)})


@pytest.mark.parametrize("project_file", [True, False], ids=["project-file", "no-project-file"])
def test_pre_commit_run_green_then_red(hook_rev: tuple[Path, str], pre_commit_home: Path,
                                       tmp_path: Path, project_file: bool) -> None:
    (tmp_path / "sample").mkdir()
    sample = _sample(tmp_path / "sample", hook_rev, project_file=project_file)
    config = tmp_path / "no-stackctl-config"  # a store would be created here: none may be

    green = _run(sample, pre_commit_home, config)
    assert green.returncode == 0, green.stdout + green.stderr
    assert "stackctl validate" in green.stdout
    assert "Passed" in green.stdout
    assert not config.exists()

    (sample / "manifests" / "stacks.yaml").write_text(
        STACK.replace("artifact_store: artifacts", "artifact_store: artefacts"))
    (sample / "manifests" / "components.yaml.j2").write_text(
        (sample / "manifests" / "components.yaml.j2").read_text().replace("host: db",
                                                                          "host: db, port: x"))
    _commit_all(sample)
    red = _run(sample, pre_commit_home, config)
    assert red.returncode == 1, red.stdout + red.stderr
    assert "Failed" in red.stdout
    assert ("manifests/stacks.yaml:5:55: error: Unable to find stack component (type: "
            "artifact_store) with name 'artefacts'. [stack-unknown-component]") in red.stdout
    assert "manifests/components.yaml.j2:12:28: error: spec.config.port: 'x' is not of type " \
           "'integer' [flavor-config]" in red.stdout
    output = red.stdout + red.stderr
    for unwanted in ("docker-compose", "k8s/", "workflows", "PRECOMMIT_TEST_DB_PASSWORD",
                     "environment prod", "environment dev"):
        assert unwanted not in output, unwanted
    assert not config.exists()
