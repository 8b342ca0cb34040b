"""The CI example runs as shipped: its own ``run:`` steps, in order, against a real store.

The workflow file is read, and each job runs in a fresh clone of a temporary
git repository holding ``examples/ci/repo/`` and the workflow, as a pull request
and as a push to main. ``uses:`` steps stand in as their local equivalents
(checkout: the fresh clone; setup-python: this interpreter; artifacts: a
directory; the sticky comment: the body it would post); the install step is
this venv, which has the checkout under test installed. Secrets come from the
test: a SELECT-only role for plans, the writer for the apply.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbroles import Roles, select_only_roles

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "ci" / "github-workflow.yaml"
EXAMPLE_REPO = ROOT / "examples" / "ci" / "repo"
BIN = Path(sys.executable).parent


def test_the_workflow_is_a_valid_github_workflow() -> None:
    """check-jsonschema's vendored schema for GitHub workflows (SchemaStore's)."""
    proc = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
         str(WORKFLOW)], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


def test_the_workflow_follows_the_team_rules() -> None:
    """Pinned actions, minimal permissions, no secret outside plan/apply, one apply at a time."""
    wf = yaml.safe_load(WORKFLOW.read_text())
    assert wf["permissions"] == {}
    text = WORKFLOW.read_text()
    for line in re.findall(r"uses: (\S+.*)", text):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line
    installs = [s["run"] for j in yaml.safe_load(text)["jobs"].values() for s in j["steps"]
                if "pip install" in s.get("run", "")]
    # from the repository at a pinned commit: the PyPI name is an unrelated package
    assert installs == ['python -m pip install --quiet "stackctl @ $STACKCTL_INSTALL"'] * 3
    assert re.fullmatch(r"git\+https://github\.com/[\w.-]+/[\w.-]+@[0-9a-f]{40}",
                        yaml.safe_load(text)["env"]["STACKCTL_INSTALL"])
    jobs = wf["jobs"]
    assert "secrets." not in json.dumps(jobs["validate"])
    assert jobs["plan"]["env"]["TEAM_DB_URL"] == "${{ secrets.TEAM_DB_URL_READONLY }}"
    assert jobs["apply"]["env"]["TEAM_DB_URL"] == "${{ secrets.TEAM_DB_URL }}"
    assert jobs["apply"]["environment"] == "production"
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    assert jobs["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert jobs["validate"]["permissions"] == jobs["apply"]["permissions"] == {"contents": "read"}


# ---- running the workflow -----------------------------------------------------------

@dataclass
class Run:
    """What one workflow run did."""

    jobs: dict[str, str] = field(default_factory=dict)  # job -> success | skipped
    logs: dict[str, str] = field(default_factory=dict)  # "job/step" -> stdout
    comment: str | None = None  # the sticky PR comment's body


def _expression(text: str, context: Mapping[str, str]) -> str:
    """``${{ … }}`` in a value: secrets and the github context, from the test."""
    def value(match: re.Match[str]) -> str:
        return context.get(match.group(1).strip(), "")

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def _condition(expr: str | None, context: Mapping[str, str]) -> bool:
    """The few operators the workflow's ``if:`` use: ==, &&, ||, quoted strings."""
    if expr is None:
        return True
    python = re.sub(r"\b(github\.[a-z_]+)\b", lambda m: repr(context[m.group(1)]), expr)
    python = python.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'=/.-]*", python.replace(" and ", " ").replace(" or ", " ")), \
        f"unsupported expression: {expr}"
    return bool(eval(python, {"__builtins__": {}}, {}))  # only the shapes checked above


def run_workflow(origin: Path, workspace: Path, artifacts: Path, event: str, ref: str,
                 secrets: Mapping[str, str], home: Path) -> Run:
    wf = yaml.safe_load(WORKFLOW.read_text())
    context = {"github.event_name": event, "github.ref": ref,
               **{f"secrets.{k}": v for k, v in secrets.items()}}
    run = Run()
    for name, job in wf["jobs"].items():  # the file lists them in dependency order
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        if any(run.jobs.get(n) != "success" for n in needs) or not _condition(
                job.get("if"), context):
            run.jobs[name] = "skipped"
            continue
        shutil.rmtree(workspace, ignore_errors=True)  # every job: a fresh runner
        subprocess.run(["git", "clone", "-q", str(origin), str(workspace)], check=True)
        home.mkdir(parents=True, exist_ok=True)
        config = Path(tempfile.mkdtemp(dir=home))  # each runner's own (empty) global config
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
               "STACKCTL_CONFIG_PATH": str(config), "GITHUB_EVENT_NAME": event,
               "GITHUB_REF": ref, "GITHUB_WORKSPACE": str(workspace), "CI": "true"}
        for scope in (wf.get("env", {}), job.get("env", {})):
            env.update({k: _expression(str(v), context) for k, v in scope.items()})
        for index, step in enumerate(job["steps"]):
            if not _condition(step.get("if"), context):
                continue
            key = f"{name}/{step.get('name') or index}"
            if "uses" in step:
                _uses(step, workspace, artifacts, run)
            elif "pip install" in step["run"]:
                continue  # this venv has the checkout under test installed
            else:
                proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                                       "-c", step["run"]], cwd=workspace, env=env,
                                      capture_output=True, text=True, check=False, timeout=300)
                assert proc.returncode == 0, f"{key} failed:\n{proc.stdout}\n{proc.stderr}"
                run.logs[key] = proc.stdout
        run.jobs[name] = "success"
    return run


def _uses(step: Mapping[str, Any], workspace: Path, artifacts: Path, run: Run) -> None:
    action = step["uses"].split("@")[0]
    given = step.get("with", {})
    if action in ("actions/checkout", "actions/setup-python"):
        return  # the fresh clone; this interpreter
    if action == "actions/upload-artifact":
        target = artifacts / given["name"]
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(workspace / given["path"], target)
    elif action == "actions/download-artifact":
        for path in (artifacts / given["name"]).iterdir():
            shutil.copy(path, workspace)
    elif action == "actions/github-script":
        assert 'readFileSync("plan.md"' in given["script"]
        run.comment = (workspace / "plan.md").read_text()
    else:
        raise AssertionError(f"no local stand-in for {action}")


@pytest.fixture(params=["postgresql", "mariadb"])
def roles(request: pytest.FixtureRequest) -> Iterator[Roles]:
    yield from select_only_roles(request, request.param)


@pytest.mark.db
def test_the_workflow_runs_as_shipped(roles: Roles, tmp_path: Path) -> None:
    # the platform team initializes the shared store once, with the writer
    bootstrap = subprocess.run(
        [str(BIN / "stackctl"), "profile", "create", "team", "--store-type", "sql",
         "--url-from-env", "TEAM_DB_URL"], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "TEAM_DB_URL": roles.writer,
             "STACKCTL_CONFIG_PATH": str(tmp_path / "platform")}, check=False, timeout=120)
    assert bootstrap.returncode == 0, bootstrap.stderr
    roles.grant()

    origin = tmp_path / "origin"
    shutil.copytree(EXAMPLE_REPO, origin)
    (origin / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(WORKFLOW, origin / ".github" / "workflows" / "stackctl.yaml")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    subprocess.run([*git, "-C", str(origin), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(origin), "commit", "-qm", "stacks"], check=True)
    secrets = {"TEAM_DB_URL_READONLY": roles.reader, "TEAM_DB_URL": roles.writer}
    workspace, home = tmp_path / "work" / "repo", tmp_path / "runners"

    # a pull request: validated, planned with the reader (writes nothing), commented
    before = roles.dump()
    pr = run_workflow(origin, workspace, tmp_path / "pr-artifacts", "pull_request",
                      "refs/pull/7/merge", secrets, home)
    assert pr.jobs == {"validate": "success", "plan": "success", "apply": "skipped"}
    assert pr.comment is not None
    assert "**Plan: 2 to create, 0 to update, 0 to delete.**" in pr.comment
    assert "+ create team/artifact_store/ml-artifacts" in pr.comment
    assert roles.dump() == before
    # the full plan, for `stackctl show plan.json` when the comment is truncated
    assert (tmp_path / "pr-artifacts" / "plan" / "plan.json").is_file()

    # a push to main: plan (reader) → artifact → apply of exactly that plan (writer)
    main = run_workflow(origin, workspace, tmp_path / "artifacts", "push",
                        "refs/heads/main", secrets, home)
    assert main.jobs == {"validate": "success", "plan": "success", "apply": "success"}
    saved = json.loads((tmp_path / "artifacts" / "plan" / "plan.json").read_text())
    done = json.loads(main.logs["apply/Apply the saved plan"])
    assert done["plan_id"] == saved["id"]
    assert [(c["address"], c["result"]) for c in done["changes"] if c["action"] != "no-op"] \
        == [("team/artifact_store/ml-artifacts", "created"), ("team/stack/ml", "created")]
    after = roles.dump()
    assert any("ml-artifacts" in row for row in after["stackctl_components"])
    assert any("ml-team" in row for row in after["stackctl_managed"])  # the owner

    # the next plan is clean
    again = run_workflow(origin, workspace, tmp_path / "pr2-artifacts", "pull_request",
                         "refs/pull/8/merge", secrets, home)
    assert again.comment is not None
    assert "**Plan: 0 to create, 0 to update, 0 to delete.**" in again.comment
    assert roles.dump() == after
