"""stores.files: a large commit into a directory that does not exist yet writes it whole
under a temp name and renames it into place, instead of a temp file and a rename per file.

What must hold: the same files with the same modes as a commit file by file; a journal
naming the directory, not each file; nothing of it visible before the journal lands; a
crash at any step leaves before or after; a directory that appeared meanwhile gets the
files one by one; a staged directory left by a killed writer is swept, a link is not
followed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stackctl.stores import files, writer_process

N = files.BATCH_SYNC_THRESHOLD * 2


def _writes(root: Path) -> dict[str, bytes]:
    writes = {str(root / f"d{i % 3}" / f"f{i}.yaml"): f"i: {i}\n".encode() for i in range(N)}
    writes[str(root / "d0" / "secret.yaml")] = b"s: 1\n"
    writes[str(root / "top.yaml")] = b"top: 1\n"  # root exists: a file of its own
    return writes


def _on_send(monkeypatch: pytest.MonkeyPatch,
             record: Callable[[writer_process.Writer, list[writer_process.Item]], object]
             ) -> None:
    """``record(writer, items)`` at each chunk a helper is sent."""
    real_send = writer_process.Writer.send

    def send(self: writer_process.Writer, items: list[writer_process.Item]) -> None:
        record(self, items)
        real_send(self, items)

    monkeypatch.setattr(writer_process.Writer, "send", send)


class CrashError(Exception):
    pass


def _commit(root: Path, writes: dict[str, bytes]) -> None:
    files.commit_files(root / ".stackctl", writes, [],
                       private=lambda p: p.endswith("secret.yaml"))


def _leftovers(root: Path) -> list[Path]:
    return sorted(root.rglob(f"{files.TMP_PREFIX}*")) + sorted(
        root.rglob(files.JOURNAL_NAME))


def test_new_directories_are_renamed_into_place_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[str] = []
    journals: list[dict[str, object]] = []

    def spy(step: str) -> None:
        steps.append(step)
        if (step == "apply top.yaml" or step.startswith("apply d")) and not journals:
            journals.append(json.loads((tmp_path / ".stackctl" / "journal.json").read_text()))

    monkeypatch.setattr(files, "fault_hook", spy)
    writes = _writes(tmp_path)
    old = os.umask(0o022)
    try:
        _commit(tmp_path, writes)
    finally:
        os.umask(old)
    for path, data in writes.items():
        assert Path(path).read_bytes() == data
    assert (tmp_path / "d0" / "secret.yaml").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "d1" / "f1.yaml").stat().st_mode & 0o777 == 0o644
    assert _leftovers(tmp_path) == []
    # one rename per new directory, and one for the file in the existing one
    assert sorted(s for s in steps if s.startswith("apply ")) == [
        "apply d0", "apply d1", "apply d2", "apply top.yaml"]
    renames = journals[0]["renames"]
    assert isinstance(renames, dict)
    assert sorted(Path(t).name for t in renames.values()) == ["d0", "d1", "d2", "top.yaml"]
    assert all(Path(s).parent == Path(t).parent for s, t in renames.items())


def test_a_small_commit_and_existing_directories_still_go_file_by_file(tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[str] = []
    monkeypatch.setattr(files, "fault_hook", steps.append)
    (tmp_path / "d0").mkdir()
    (tmp_path / "d0" / "f0.yaml").write_bytes(b"old\n")
    writes = _writes(tmp_path)
    _commit(tmp_path, writes)
    applied = [s for s in steps if s.startswith("apply ")]
    assert "apply d0" not in applied
    assert "apply f0.yaml" in applied
    assert {"apply d1", "apply d2"} <= set(applied)
    assert Path(tmp_path / "d0" / "f0.yaml").read_bytes() == b"i: 0\n"
    steps.clear()
    few = {str(tmp_path / "new" / f"f{i}.yaml"): b"x: 1\n" for i in range(3)}
    _commit(tmp_path, few)
    assert sorted(s for s in steps if s.startswith("apply ")) == [
        "apply f0.yaml", "apply f1.yaml", "apply f2.yaml"]
    assert _leftovers(tmp_path) == []


def test_a_directory_nested_in_another_new_one_is_staged_once(tmp_path: Path) -> None:
    writes = {str(tmp_path / "a" / f"f{i}.yaml"): b"a: 1\n" for i in range(N)}
    writes.update({str(tmp_path / "a" / "b" / f"g{i}.yaml"): b"b: 1\n" for i in range(3)})
    _commit(tmp_path, writes)
    for path, data in writes.items():
        assert Path(path).read_bytes() == data
    assert _leftovers(tmp_path) == []


def _steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    steps: list[str] = []
    monkeypatch.setattr(files, "fault_hook", steps.append)
    _commit(tmp_path / "dry", _writes(tmp_path / "dry"))
    monkeypatch.setattr(files, "fault_hook", None)
    return steps


@contextmanager
def _crashing_at(index: int) -> Iterator[None]:
    calls = iter(range(10**6))

    def hook(name: str) -> None:
        if next(calls) == index:
            raise CrashError(name)
    files.fault_hook = hook
    try:
        yield
    finally:
        files.fault_hook = None


def test_a_crash_at_any_step_leaves_nothing_or_everything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dry").mkdir()
    steps = _steps(tmp_path, monkeypatch)
    assert "journal" in steps
    assert "apply d0" in steps
    # every step but the per-file staging ones, which are all alike: the first and last
    stages = [i for i, s in enumerate(steps) if s.startswith("stage ")]
    points = [i for i, s in enumerate(steps) if not s.startswith("stage ")]
    points += [stages[0], stages[-1]]
    seen = set()
    for index in sorted(points):
        root = tmp_path / f"crash-{index}"
        root.mkdir()
        writes = _writes(root)
        with _crashing_at(index), pytest.raises(CrashError):
            _commit(root, writes)
        files.recover(root / ".stackctl", [root, *(root / f"d{i}" for i in range(3))],
                      root=root)
        present = {p for p in writes if Path(p).exists()}
        where = f"crash before step {index} ({steps[index]!r})"
        if present:
            assert present == set(writes), f"{where}: a mix"
            assert all(Path(p).read_bytes() == d for p, d in writes.items()), where
            seen.add("after")
        else:
            assert not any((root / f"d{i}").exists() for i in range(3)), where
            seen.add("before")
        assert _leftovers(root) == [], where
    assert seen == {"before", "after"}


def test_a_directory_made_meanwhile_gets_the_files_one_by_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another program (ZenML itself) made the directory after it was staged."""
    def make_it(step: str) -> None:
        if step == "journal":
            (tmp_path / "d1").mkdir()
            (tmp_path / "d1" / "theirs.yaml").write_bytes(b"t: 1\n")

    monkeypatch.setattr(files, "fault_hook", make_it)
    writes = _writes(tmp_path)
    _commit(tmp_path, writes)
    for path, data in writes.items():
        assert Path(path).read_bytes() == data
    assert (tmp_path / "d1" / "theirs.yaml").read_bytes() == b"t: 1\n"
    assert _leftovers(tmp_path) == []


def test_a_killed_writers_staged_directory_is_swept_and_a_link_is_not_followed(
        tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    staged = store / f"{files.TMP_PREFIX}999999-abcd-0"
    staged.mkdir()
    (staged / "f.yaml").write_bytes(b"x: 1\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.yaml").write_bytes(b"k: 1\n")
    link = store / f"{files.TMP_PREFIX}999999-abcd-1"
    link.symlink_to(elsewhere, target_is_directory=True)
    assert files.has_temp_files(store)
    files.recover(store / ".stackctl", [store], root=store)
    assert not staged.exists()
    assert not link.exists()
    assert not link.is_symlink()
    assert (elsewhere / "keep.yaml").read_bytes() == b"k: 1\n"  # not what it points to


# -- the helper process that writes a staged directory's files ------------------------------


def test_many_new_files_are_written_by_a_helper_process_while_meanwhile_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "HELPER_THRESHOLD", 10)
    monkeypatch.setattr(files._NewFiles, "CHUNK", 4)
    sent: list[int] = []
    _on_send(monkeypatch, lambda _writer, items: sent.append(len(items)))
    seen: list[bool] = []

    def meanwhile() -> dict[str, bytes]:
        seen.append((tmp_path / "d0").exists())  # nothing visible yet
        return {str(tmp_path / ".stackctl" / "state.json"): b"{}"}

    writes = _writes(tmp_path)
    old = os.umask(0o077)  # the helper must set the modes the umask would cut
    try:
        files.commit_files(tmp_path / ".stackctl", writes, [],
                           private=lambda p: p.endswith("secret.yaml"), meanwhile=meanwhile)
    finally:
        os.umask(old)
    # every file of d0..d2, in chunks as they come; top.yaml goes file by file
    assert sent == [4] * ((N + 1) // 4) + [(N + 1) % 4]
    assert seen == [False]
    for path, data in writes.items():
        assert Path(path).read_bytes() == data
    assert (tmp_path / ".stackctl" / "state.json").read_bytes() == b"{}"
    assert (tmp_path / "d0" / "secret.yaml").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "d1" / "f1.yaml").stat().st_mode & 0o777 == 0o644
    assert _leftovers(tmp_path) == []


def test_the_helpers_failure_is_raised_with_its_path_and_nothing_is_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "HELPER_THRESHOLD", 10)
    writes = _writes(tmp_path)
    too_long = str(tmp_path / "d2" / ("x" * 300 + ".yaml"))
    writes[too_long] = b"x: 1\n"
    with pytest.raises(OSError, match="File name too long") as caught:
        _commit(tmp_path, writes)
    assert caught.value.filename.endswith("x" * 300 + ".yaml")
    assert not any((tmp_path / f"d{i}").exists() for i in range(3))
    assert not (tmp_path / "top.yaml").exists()
    assert _leftovers(tmp_path) == []


def test_a_failure_meanwhile_stops_the_helper_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "HELPER_THRESHOLD", 10)
    stopped: list[bool] = []
    real_stop = writer_process.Writer.stop

    def stop(self: writer_process.Writer) -> None:
        stopped.append(True)
        real_stop(self)

    monkeypatch.setattr(writer_process.Writer, "stop", stop)

    def meanwhile() -> dict[str, bytes]:
        raise CrashError("bookkeeping failed")

    with pytest.raises(CrashError):
        files.commit_files(tmp_path / ".stackctl", _writes(tmp_path), [], meanwhile=meanwhile)
    assert stopped == [True]
    assert not any((tmp_path / f"d{i}").exists() for i in range(3))
    assert _leftovers(tmp_path) == []


def test_without_a_helper_the_files_are_written_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def cannot() -> None:
        raise PermissionError(13, "Permission denied", "python")

    monkeypatch.setattr(files, "HELPER_THRESHOLD", 10)
    monkeypatch.setattr(writer_process, "Writer", cannot)
    writes = _writes(tmp_path)
    _commit(tmp_path, writes)
    for path, data in writes.items():
        assert Path(path).read_bytes() == data
    assert _leftovers(tmp_path) == []


def test_a_new_local_store_computes_its_bookkeeping_while_its_files_are_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LocalStore.create: ``before_books`` runs once, before any file of the store is
    visible, and what it fills is what state.json holds."""
    from stackctl.model import Component, ComponentType, ProfileState
    from stackctl.stores.local import LocalStore
    from stackctl.stores.urls import file_url

    monkeypatch.setattr(files, "HELPER_THRESHOLD", 10)
    store = LocalStore("p", file_url(str(tmp_path / "p")))
    comps = {(ComponentType.ORCHESTRATOR, f"o{i}"): Component(
        ComponentType.ORCHESTRATOR, f"o{i}", "local", f"uuid-{i}", {}) for i in range(N)}
    managed: dict[str, str] = {}
    calls: list[bool] = []

    def fill() -> None:
        calls.append((tmp_path / "p" / "orchestrators").exists())
        managed.update({f"p/orchestrator/o{i}": f"print-{i}" for i in range(N)})

    store.create(ProfileState(components=comps, stacks={}), managed, before_books=fill)
    assert calls == [False]
    state = json.loads((tmp_path / "p" / ".stackctl" / "state.json").read_text())
    assert state["managed"] == managed
    assert len(list((tmp_path / "p" / "orchestrators").iterdir())) == N
    assert store.load().components == comps


def test_the_helper_is_started_only_from_this_very_interpreter(tmp_path: Path) -> None:
    """Python embedded in another program has that program as sys.executable: starting
    it with a Python script on its stdin could do anything, or wait forever."""
    import shutil
    import sys

    assert writer_process.can_spawn()
    assert writer_process.can_spawn(sys.executable)
    other = shutil.which("sh")
    assert other is not None
    assert not writer_process.can_spawn(other)
    assert not writer_process.can_spawn("")
    assert not writer_process.can_spawn(str(tmp_path / "missing"))


def test_rendered_files_reach_the_helper_before_the_last_is_rendered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Rendered`` makes each file's bytes as commit_files reads it: the helper gets
    the first chunk while later files are still to be rendered."""
    monkeypatch.setattr(files, "HELPER_THRESHOLD", 10)
    monkeypatch.setattr(files._NewFiles, "CHUNK", 8)
    events: list[str] = []
    _on_send(monkeypatch, lambda _writer, _items: events.append("send"))

    def render(i: int) -> bytes:
        events.append("render")
        return f"i: {i}\n".encode()

    sources = {str(tmp_path / "d" / f"f{i}.yaml"): i for i in range(N)}
    ready = {str(tmp_path / "top.yaml"): b"top: 1\n"}
    files.commit_files(tmp_path / ".stackctl", files.Rendered(sources, render, ready), [])
    assert events.count("render") == N  # each file rendered once
    assert events.index("send") < len(events) - 1 - events[::-1].index("render")
    for path, i in sources.items():
        assert Path(path).read_bytes() == f"i: {i}\n".encode()
    assert (tmp_path / "top.yaml").read_bytes() == b"top: 1\n"
    assert _leftovers(tmp_path) == []


def test_rendered_is_a_mapping_of_both_kinds_of_files() -> None:
    rendered = files.Rendered({"a": 1, "b": 2}, lambda i: b"%d" % i, {"c": b"ready"})
    assert len(rendered) == 3
    assert list(rendered) == ["a", "b", "c"]
    assert dict(rendered) == {"a": b"1", "b": b"2", "c": b"ready"}
    with pytest.raises(KeyError):
        rendered["missing"]


def test_a_helper_failure_in_an_early_chunk_is_raised_with_its_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "HELPER_THRESHOLD", 10)
    monkeypatch.setattr(files._NewFiles, "CHUNK", 2)
    too_long = str(tmp_path / "d2" / ("x" * 300 + ".yaml"))
    writes = {too_long: b"x: 1\n", **_writes(tmp_path)}  # the first file fails
    with pytest.raises(OSError, match="File name too long") as caught:
        _commit(tmp_path, writes)
    assert caught.value.filename.endswith("x" * 300 + ".yaml")
    assert not any((tmp_path / f"d{i}").exists() for i in range(3))
    assert _leftovers(tmp_path) == []


def test_a_helper_that_was_not_told_the_end_fails_instead_of_finishing(
        tmp_path: Path) -> None:
    """A caller that stops sending without ``finish`` (it died, or a bug) must not be
    taken for one that sent everything: the helper exits with an error, not with a
    sync that would make a partial set look whole."""
    writer = writer_process.Writer()
    writer.send([(str(tmp_path / "a.yaml"), b"a: 1\n", 0o644, 0)])
    with pytest.raises(OSError, match="ended before sending every file"):
        writer.wait()
