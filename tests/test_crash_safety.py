"""A crash at any write step of an apply leaves every store as before or as after.

First an apply of a plan touching every kind of store (an existing profile with
creates, updates and deletes, a new profile, a deleted profile, a repository
and the global config) runs once with ``stores.files.fault_hook`` recording
its write steps. Then, for each step, the same apply starts again from the same
state with the hook raising at that step; after the stores are opened again
(which recovers an interrupted commit) each store must equal, byte for byte,
its state before or its state after the clean apply, with no journal or temp
file left. Uuids and times are made deterministic so "after" is one value.
A second test SIGKILLs the real ``stackctl`` process at write steps.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from stackctl.apply import apply_plan
from stackctl.compiler.compile import compile_manifests
from stackctl.compiler.project import Inputs
from stackctl.plan.compute import compute_plan
from stackctl.plan.live import read_live
from stackctl.plan.model import Plan
from stackctl.stores import files, writer_process
from stackctl.stores.local import LocalStore
from stackctl.workspace import Workspace

STACKCTL = str(Path(sys.executable).with_name("stackctl"))
LOCK_FILES = {"lock", "lock.json"}

BEFORE = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {store: {type: local}, activeStack: cloud}
---
apiVersion: stackctl/v1
kind: Profile
metadata: {name: old}
spec: {store: {type: local}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: doomed, profile: old}
spec: {type: orchestrator, flavor: local}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: s3, profile: team}
spec: {type: artifact_store, flavor: s3, config: {path: s3://ml/old, secret: "{{ env.S3_SECRET }}"}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: scratch, profile: team}
spec: {type: artifact_store, flavor: local, config: {path: /tmp/stackctl-crash-scratch}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: cloud, profile: team}
spec: {components: {orchestrator: default, artifact_store: s3, metadata_store: default}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: edge, profile: team}
spec: {components: {orchestrator: default, artifact_store: scratch, metadata_store: default}}
---
apiVersion: stackctl/v1
kind: Repository
metadata: {name: project}
spec: {path: project, activeProfile: team, activeStack: edge}
---
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {name: global}
spec: {activeProfile: team}
"""

AFTER = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {store: {type: local}, activeStack: edge}
---
apiVersion: stackctl/v1
kind: Profile
metadata: {name: fresh}
spec: {store: {type: local}, activeStack: small}
---
apiVersion: stackctl/v1
kind: Flavor
metadata: {name: my-orchestrator, profile: fresh}
spec:
  type: orchestrator
  source: my_pkg.MyOrchestrator
  configSchema: {type: object, properties: {replicas: {type: integer}}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: mine, profile: fresh}
spec: {type: orchestrator, flavor: my-orchestrator, config: {replicas: 2}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: small, profile: fresh}
spec: {components: {orchestrator: mine, artifact_store: default, metadata_store: default}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: s3, profile: team}
spec: {type: artifact_store, flavor: s3, config: {path: s3://ml/new, secret: "{{ env.S3_SECRET }}"}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: registry, profile: team}
spec: {type: container_registry, flavor: default, config: {uri: "localhost:5000"}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: cloud, profile: team}
spec: {components: {orchestrator: default, artifact_store: s3, metadata_store: default}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: edge, profile: team}
spec:
  components: {orchestrator: default, artifact_store: s3, metadata_store: default,
               container_registry: registry}
---
apiVersion: stackctl/v1
kind: Repository
metadata: {name: project}
spec: {path: project, activeProfile: team, activeStack: cloud}
---
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {name: global}
spec: {activeProfile: fresh}
"""


class InjectedCrashError(Exception):
    """Raised by the fault hook: the apply stops dead at that step."""


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/before.yaml.j2 and tmp/after.yaml.j2, both naming the repository tmp/project."""
    monkeypatch.setenv("S3_SECRET", "crash-test-secret")
    (tmp_path / "before.yaml.j2").write_text(BEFORE)
    (tmp_path / "after.yaml.j2").write_text(AFTER)
    (tmp_path / "project").mkdir()
    return tmp_path


def _plan(manifests: Path, *, prune: bool = True) -> tuple[Plan, Any]:
    compiled = compile_manifests(Inputs(paths=(str(manifests),)), cwd=manifests.parent)
    assert compiled.ok, [str(d) for d in compiled.diagnostics]
    live = read_live(Workspace(), compiled.desired.profiles, compiled.desired.repositories)
    return compute_plan(compiled.desired, live, inputs={}, prune=prune), compiled.desired


# -- deterministic runs ----------------------------------------------------------------------


@pytest.fixture
def deterministic(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to restart the uuid sequence; datetime.now() in the local store is fixed."""
    counter: Iterator[int] = iter(())

    def restart() -> None:
        nonlocal counter
        counter = itertools.count(1)

    def fake_uuid4() -> uuid.UUID:
        return uuid.UUID(int=next(counter))

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FixedDatetime:
            return cls(2026, 1, 1, 12, 0, 0)

    monkeypatch.setattr(uuid, "uuid4", fake_uuid4)
    monkeypatch.setattr("stackctl.stores.local.datetime", FixedDatetime)
    restart()
    return restart


# -- what each store holds -------------------------------------------------------------------


def _files(root: Path, *, recursive: bool) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    paths = root.rglob("*") if recursive else [*root.glob("*"), *root.glob(".stackctl/*")]
    for path in sorted(paths):
        if path.is_file() and path.name not in LOCK_FILES:
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def store_snapshots(config: Path, project: Path) -> dict[str, dict[str, bytes]]:
    """Every file of every store, by store: the global config, each profile, the repository."""
    stores = {"global": _files(config, recursive=False),
              "repository": _files(project / ".zen", recursive=True)}
    profiles = config / "profiles"
    for name in ("team", "old", "fresh"):
        stores[f"profile/{name}"] = _files(profiles / name, recursive=True) if (
            profiles / name).exists() else {}
    return stores


def _reopen(config: Path) -> None:
    """What the next command does first: open (and so recover) every store."""
    ws = Workspace(config)
    ws.config()
    ws.globals.bookkeeping()
    for directory in sorted((config / "profiles").glob("*")):
        store = LocalStore(directory.name, f"file://{directory}")
        if store.exists():
            store.load()
            store.bookkeeping()


def _leftovers(*roots: Path) -> list[str]:
    return sorted(str(p) for root in roots for p in root.rglob("*")
                  if p.name == files.JOURNAL_NAME or p.name.startswith(".stackctl-tmp-"))


# -- injected failures -----------------------------------------------------------------------


@pytest.mark.parametrize("helper", [False, True], ids=["here", "helper-process"])
def test_a_failure_at_every_write_step_leaves_each_store_before_or_after(
        scene: Path, config_dir: Path, deterministic: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch, helper: bool) -> None:
    """``helper``: every multi-file commit takes the large-commit path (one sync, new
    directories staged whole, their files streamed to the writer helper process), so
    a crash also lands while the helper is writing."""
    if helper:
        monkeypatch.setattr(files, "BATCH_SYNC_THRESHOLD", 1)
        monkeypatch.setattr(files, "HELPER_THRESHOLD", 1)
        monkeypatch.setattr(files._NewFiles, "CHUNK", 1)
        spawned: list[bool] = []
        real_init = writer_process.Writer.__init__

        def init(self: writer_process.Writer) -> None:
            spawned.append(True)
            real_init(self)

        monkeypatch.setattr(writer_process.Writer, "__init__", init)
    project = scene / "project"
    before_plan, before_desired = _plan(scene / "before.yaml.j2", prune=False)
    apply_plan(Workspace(), before_plan, before_desired)
    pristine = scene / "pristine"
    shutil.copytree(config_dir, pristine / "config")
    shutil.copytree(project, pristine / "project")
    before = store_snapshots(config_dir, project)

    plan, desired = _plan(scene / "after.yaml.j2")
    counts = plan.counts
    assert counts["create"] >= 5
    assert counts["update"] >= 4
    assert counts["delete"] >= 2

    def restore() -> None:
        for target, source in ((config_dir, "config"), (project, "project")):
            shutil.rmtree(target)
            shutil.copytree(pristine / source, target)
        deterministic()

    steps: list[str] = []
    monkeypatch.setattr(files, "fault_hook", steps.append)
    restore()
    apply_plan(Workspace(), plan, desired)
    after = store_snapshots(config_dir, project)
    assert set(after) == set(before)
    changed = {store for store in before if before[store] != after[store]}
    assert changed == {"global", "repository", "profile/team", "profile/old", "profile/fresh"}
    # one commit per store: each journaled commit stages, journals, applies, clears
    assert steps.count("clear journal") == 3  # team, fresh, global
    assert "rename config.yaml" in steps  # the repository's single-file write
    assert "trash old" in steps  # the deleted profile's store goes with the global commit
    assert len(steps) > 20

    outcomes: dict[str, set[str]] = {}
    for index, step in enumerate(steps):
        restore()
        calls = itertools.count()

        def crash_at(name: str, index: int = index,
                     calls: Iterator[int] = calls) -> None:
            if next(calls) == index:
                raise InjectedCrashError(name)

        monkeypatch.setattr(files, "fault_hook", crash_at)
        with pytest.raises(InjectedCrashError):
            apply_plan(Workspace(), plan, desired)
        monkeypatch.setattr(files, "fault_hook", None)
        _reopen(config_dir)
        now = store_snapshots(config_dir, project)
        where = f"crash before step {index} ({step!r})"
        for store, content in now.items():
            assert content in (before[store], after[store]), f"{where}: {store} is a mix"
            outcomes.setdefault(store, set()).add("before" if content == before[store]
                                                  else "after")
        assert _leftovers(config_dir, project) == [], where

        # and the next apply finishes the job
        again, again_desired = _plan(scene / "after.yaml.j2")
        apply_plan(Workspace(), again, again_desired)
        assert not _plan(scene / "after.yaml.j2")[0].has_changes, where
    # the crash points do split every store both ways
    assert all(seen == {"before", "after"} for seen in outcomes.values()), outcomes
    if helper:
        assert spawned, "no commit took the helper path"


def test_the_fault_seam_counts_no_cache_write(
        scene: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read cache is written or not depending on the files' ages (a loaded machine
    makes them older); its writes must not shift the step numbers the crash tests kill at."""
    import os

    from stackctl.stores import read_cache

    before_plan, before_desired = _plan(scene / "before.yaml.j2", prune=False)
    apply_plan(Workspace(), before_plan, before_desired)
    monkeypatch.setattr(read_cache, "RACY_SECONDS", -1.0)  # every file old enough to cache
    steps: list[str] = []
    monkeypatch.setattr(files, "fault_hook", steps.append)
    _plan(scene / "after.yaml.j2")
    cached = sorted((Path(os.environ["STACKCTL_CACHE_DIR"]) / "read-cache").glob("*.json"))
    assert cached, "the plan wrote no read cache: this test proves nothing"
    assert steps == []


# -- a real process, killed ------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# last-applied records carry a random salt each, and secrets sealed under it
_SALTED = re.compile(r'("salt": ?"|\(sensitive\):)[0-9a-f]{32}')


def semantic_snapshots(config: Path, project: Path) -> dict[str, dict[str, str]]:
    """Each store's files with uuids, lineages, plan ids and creation times normalized."""
    out: dict[str, dict[str, str]] = {}
    for store, content in store_snapshots(config, project).items():
        out[store] = {name: _SALTED.sub(r"\1<salt>", _UUID.sub(
                          "<uuid>", re.sub(r".*creation_date.*\n", "", data.decode())))
                      for name, data in content.items()}
    return out


LAUNCHER = str(Path(__file__).with_name("crash_launcher.py"))


def _run_apply(manifests: Path, cwd: Path, kill_at: int | None = None,
               steps: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own; with ``kill_at``, through the fault seam."""
    argv = ["apply", "--auto-approve", "--prune", str(manifests)]
    if kill_at is not None:
        argv = [sys.executable, LAUNCHER, str(kill_at), str(steps or ""), *argv]
    else:
        argv = [STACKCTL, *argv]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_sigkill_at_write_steps_leaves_each_store_before_or_after(
        scene: Path, config_dir: Path) -> None:
    project = scene / "project"
    first = subprocess.run([STACKCTL, "apply", "-y", str(scene / "before.yaml.j2")], cwd=scene,
                           capture_output=True, text=True, check=False, timeout=120)
    assert first.returncode == 0, first.stderr
    pristine = scene / "pristine"
    shutil.copytree(config_dir, pristine / "config")
    shutil.copytree(project, pristine / "project")
    before = semantic_snapshots(config_dir, project)

    def restore() -> None:
        for target, source in ((config_dir, "config"), (project, "project")):
            shutil.rmtree(target)
            shutil.copytree(pristine / source, target)

    log = scene / "steps.log"
    clean = _run_apply(scene / "after.yaml.j2", scene, kill_at=0, steps=log)
    assert clean.returncode == 0, clean.stderr
    after = semantic_snapshots(config_dir, project)
    steps = log.read_text().splitlines()
    assert steps.count("clear journal") == 3

    # every kind of step, at the start, the middle and the end of the run
    picks = sorted({1, len(steps) // 2, len(steps),
                    *(i + 1 for i, s in enumerate(steps)
                      if s in ("journal", "rename journal.json", "clear journal",
                               "rename config.yaml") or s.startswith("apply "))})
    for kill_at in picks:
        restore()
        killed_log = scene / f"killed-{kill_at}.log"
        killed = _run_apply(scene / "after.yaml.j2", scene, kill_at=kill_at, steps=killed_log)
        where = f"SIGKILL at step {kill_at} ({steps[kill_at - 1]!r})"
        # the same steps as the recorded run, up to the kill (else kill_at means another step)
        assert killed_log.read_text().splitlines() == steps[:kill_at], where
        assert killed.returncode == -9, f"{where}: {killed.stderr}"
        # the next command recovers; `plan` only reads
        replan = subprocess.run([STACKCTL, "plan", str(scene / "after.yaml.j2")], cwd=scene,
                                capture_output=True, text=True, check=False, timeout=120)
        assert replan.returncode == 0, f"{where}: {replan.stderr}"
        now = semantic_snapshots(config_dir, project)
        for store, content in now.items():
            assert content in (before[store], after[store]), f"{where}: {store} is a mix"
        leftovers = _leftovers(config_dir)
        assert leftovers == [], where
        assert _run_apply(scene / "after.yaml.j2", scene).returncode == 0, where
        _assert_same(semantic_snapshots(config_dir, project), after, where)


def _assert_same(got: dict[str, dict[str, str]], want: dict[str, dict[str, str]],
                 where: str) -> None:
    import difflib

    if got != want:
        diff = difflib.unified_diff(json.dumps(want, indent=1, sort_keys=True).splitlines(),
                                    json.dumps(got, indent=1, sort_keys=True).splitlines(),
                                    "expected", "got", lineterm="")
        pytest.fail(f"{where}:\n" + "\n".join(diff))


def test_the_fault_seam_is_inert_and_no_production_code_reads_a_test_setting() -> None:
    assert files.fault_hook is None
    source = Path(files.__file__).resolve().parents[1]
    readers = [str(p.relative_to(source)) for p in source.rglob("*.py")
               if "STACKCTL_TEST" in p.read_text()]
    assert readers == []
