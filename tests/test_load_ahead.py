"""compiler.load_ahead: a forked child loads and checks the latter manifest files while
the compile goes on; the result must be the very one of a compile without it, and a
child that fails, or a compile that fails, must leave no child behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stackctl.compiler import compile as compile_module
from stackctl.compiler import load_ahead
from stackctl.compiler.compile import Compiled, compile_manifests
from stackctl.compiler.project import Inputs

CASES = Path(__file__).resolve().parent / "cases"
ENVIRON = {"HOME": "/nonexistent", "STACKCTL_CASE_SECRET": "s3cr3t-from-env-0451"}


def _compile(path: Path) -> Compiled:
    return compile_manifests(Inputs(paths=(str(path),)), cwd=path.parent, environ=ENVIRON,
                             offline=True)


def _seen(result: Compiled) -> tuple[list[str], list[str], list[str]]:
    desired = result.desired
    return ([f"{d} | {d.hint}" for d in result.diagnostics],
            sorted(f"{name}/{key}={comp}" for name, dp in desired.profiles.items()
                   for key, comp in dp.components.items()),
            sorted(f"{name}/{s}={stack}" for name, dp in desired.profiles.items()
                   for s, stack in dp.stacks.items()))


def _manifests(root: Path, files: int = 40) -> Path:
    """Many files, with problems in both halves: a schema error, a YAML error, a
    duplicate across the halves, a stack naming a missing component, foreign YAML."""
    root.mkdir()
    (root / "profile.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: p}\nspec: {}\n")
    for i in range(files):
        docs = [f"apiVersion: stackctl/v1\nkind: Component\nmetadata: {{name: c{i}-{j}, "
                f"profile: p}}\nspec: {{type: orchestrator, flavor: local}}\n"
                for j in range(5)]
        docs.append(f"apiVersion: stackctl/v1\nkind: Stack\nmetadata: {{name: s{i}, profile: p}}"
                    f"\nspec: {{components: {{orchestrator: c{i}-0, artifact_store: default, "
                    f"metadata_store: default}}}}\n")
        (root / f"f{i:03}.yaml").write_text("---\n".join(docs))
    (root / "f002.yaml").write_text((root / "f002.yaml").read_text() + (
        "---\napiVersion: stackctl/v1\nkind: Component\nmetadata: {name: bad, profile: p}\n"
        "spec: {type: orchestrator, flavor: local, config: {nope: 1}}\n"))
    (root / f"f{files - 3:03}.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: [x\n")
    (root / f"f{files - 2:03}.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: c1-1, profile: p}\n"
        "spec: {type: orchestrator, flavor: local}\n---\napiVersion: stackctl/v1\nkind: Stack\n"
        "metadata: {name: lonely, profile: p}\nspec: {components: {orchestrator: missing, "
        "artifact_store: default, metadata_store: default}}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: foreign}\n")
    return root


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Load ahead whatever the size (and whatever threads run: a pytest-xdist worker has
    one of its own); the children forked, by pid."""
    monkeypatch.setattr(load_ahead, "MIN_CHILD_BYTES", 0)
    monkeypatch.setattr(load_ahead, "can_fork", lambda: True)
    forked: list[int] = []
    real = load_ahead.LoadAhead.__init__

    def spy(self: load_ahead.LoadAhead[object], *args: object) -> None:
        real(self, *args)  # type: ignore[arg-type]
        forked.append(self._pid or 0)

    monkeypatch.setattr(load_ahead.LoadAhead, "__init__", spy)
    return forked


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)  # a child running or a zombie: there is one
    except ChildProcessError:
        return True
    return False


def test_many_files_compile_the_same_with_a_child_loading_ahead(
        tmp_path: Path, forced: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _manifests(tmp_path / "m")
    parent = os.getpid()
    loaded_here: list[str] = []
    real = compile_module._Reader._load

    def spy(self: compile_module._Reader, path: Path, *args: object) -> object:
        if os.getpid() == parent:
            loaded_here.append(path.name)
        return real(self, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(compile_module._Reader, "_load", spy)
    with_child = _seen(_compile(root))
    assert len(forced) == 1
    # the child's files were not loaded again here: its answer was used
    assert 10 < len(loaded_here) < 31, loaded_here
    assert "f039.yaml" not in loaded_here
    monkeypatch.setattr(load_ahead, "can_fork", lambda: False)
    alone = _seen(_compile(root))
    assert len(forced) == 1  # no second child
    assert with_child == alone
    rules = {line.split(" [")[-1].split("]")[0] for line in alone[0]}
    assert {"yaml-syntax", "duplicate-resource", "mixed-file"} <= rules, rules
    assert _no_children_left()


@pytest.mark.parametrize("case", sorted(p for p in (CASES / "invalid").iterdir()
                                        if p.suffix != ".expected"), ids=lambda p: p.name)
def test_every_bad_input_case_is_reported_alike(case: Path, forced: list[int],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with_child = _seen(_compile(case))
    monkeypatch.setattr(load_ahead, "can_fork", lambda: False)
    assert _seen(_compile(case)) == with_child


def test_a_child_that_dies_means_the_files_are_loaded_here(
        tmp_path: Path, forced: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _manifests(tmp_path / "m")
    alone_result = _seen(_compile(root))
    parent = os.getpid()
    real = compile_module._schema_ok

    def dies_in_the_child(*args: object) -> bool:
        if os.getpid() != parent:
            os._exit(7)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(compile_module, "_schema_ok", dies_in_the_child)
    assert _seen(_compile(root)) == alone_result
    assert len(forced) == 2
    assert _no_children_left()


def test_a_compile_that_fails_leaves_no_child(
        tmp_path: Path, forced: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _manifests(tmp_path / "m")

    def fails(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(compile_module, "_build_one", fails)
    with pytest.raises(KeyboardInterrupt):
        _compile(root)
    assert len(forced) == 1
    assert _no_children_left()


def test_no_fork_with_another_thread_running() -> None:
    """In a process of its own: this one may run threads (a pytest-xdist worker does)."""
    script = (
        "import threading\n"
        "from stackctl.compiler import load_ahead\n"
        "alone = load_ahead.can_fork()\n"
        "stop = threading.Event()\n"
        "thread = threading.Thread(target=stop.wait)\n"
        "thread.start()\n"
        "print(alone, load_ahead.can_fork())\n"
        "stop.set()\n"
        "thread.join()\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert run.stdout.split() == ["True", "False"]


def test_the_child_takes_the_last_files_about_half_the_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_ahead, "MIN_CHILD_BYTES", 100)
    sizes = [(Path(f"f{i}"), size) for i, size in enumerate([50, 50, 50, 30, 20, 100])]
    # from the last file back to half of the 300 bytes
    assert load_ahead.child_share(sizes) == [Path("f3"), Path("f4"), Path("f5")]
    assert load_ahead.child_share(sizes[:3]) == []  # 150 bytes: too few to fork for
