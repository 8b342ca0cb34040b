"""Helpers for tests that run the installed `stackctl` (and Python) in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

BIN = Path(sys.prefix) / "bin"
STACKCTL = shutil.which("stackctl", path=str(BIN)) or str(BIN / "stackctl")
PYTHON = sys.executable


class Result(NamedTuple):
    rc: int
    stdout: str
    stderr: str


class CliResult(NamedTuple):
    """An in-process run of ``stackctl`` (the ``cli`` fixture of conftest.py)."""

    rc: int
    out: str
    err: str


Cli = Callable[..., CliResult]


def run_process(argv: list[str], cwd: Path, *, env: Mapping[str, str] | None = None,
                stdin: str | None = None) -> Result:
    """Run a program with the test's environment (plus ``env``); no terminal, no stdin."""
    proc = subprocess.run(
        argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL, timeout=120,
        check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def snapshot(root: Path) -> dict[str, str]:
    """Every file and directory under ``root``, with file contents: to prove nothing changed.

    Lock files are left out: taking a lock is not a change.
    """
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.name in {"lock", "lock.json"}:
            continue
        found[rel] = "<dir>" if path.is_dir() else path.read_text(errors="replace")
    return found


def team_manifests(art_path: str) -> str:
    """A small applied world: profile ``team`` (active, globally) whose active stack
    ``cloud`` uses a local artifact store ``art`` at ``art_path``."""
    return f"""\
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {{name: global}}
spec: {{activeProfile: team}}
---
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: team}}
spec: {{store: {{type: local}}, activeStack: cloud}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: art, profile: team}}
spec: {{type: artifact_store, flavor: local, config: {{path: {art_path}}}}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: cloud, profile: team}}
spec: {{components: {{orchestrator: default, artifact_store: art, metadata_store: default}}}}
"""


def check_record_only_move(work: Path, source: str, target: str,
                           managed: Callable[[], Mapping[str, str]]) -> None:
    """A ``moved:`` entry whose source exists only in stackctl's bookkeeping (deleted
    outside stackctl): the plan shows its record moving and the target created; after the
    apply the record is the target's (``managed()``: the bookkeeping holding it) and the
    next plan is clean, with no drift on the old name left behind."""
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert (f"~ rename {source} → {target.rsplit('/', 1)[1]}  (only stackctl's record: deleted "
            "outside stackctl)\n") in planned.stdout
    assert f"+ create {target}\n" in planned.stdout
    assert (f"moved: {source} exists only in stackctl's bookkeeping (deleted outside "
            f"stackctl); its record moves to {target}, which is created") in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    books = managed()
    assert target in books
    assert source not in books
    again = run_process([STACKCTL, "plan"], cwd=work)
    assert again.rc == 0, again.stderr
    assert "No changes." in again.stdout
    assert "Drift" not in again.stdout
    assert f"({target} does: already renamed)" in again.stdout
