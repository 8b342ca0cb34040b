"""Pruning the cache directory: unused and orphaned cache files go, nothing else does."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from stackctl import cache_prune, schema_check
from stackctl.stores import read_cache
from stackctl.stores.read_cache import ReadCache

DAY = cache_prune.DAY
IDLE = cache_prune.MAX_IDLE_DAYS * DAY


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    made = tmp_path / "cache"
    monkeypatch.setenv("STACKCTL_CACHE_DIR", str(made))
    monkeypatch.setattr(read_cache, "RACY_SECONDS", 0.0)
    (made / "read-cache").mkdir(parents=True)
    (made / "validators").mkdir()
    return made


def _file(path: Path, age: float, data: bytes = b"x") -> Path:
    """``path`` holding ``data``, last used ``age`` seconds ago."""
    path.write_bytes(data)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def _read_cache_of(cache: Path, name: str, root: Path | str, age: float) -> Path:
    header = b"stackctl-read-cache 3 " + json.dumps(str(root)).encode() + b"\n"
    return _file(cache / "read-cache" / name, age, header + b'"a.yaml"\t1 2 3 4\t{}\n')


def _names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def _prune(cache: Path) -> None:
    cache_prune.prune(cache, time.time())


def _read_once(tmp_path: Path) -> Path:
    """A store of one file, read once through its read cache (which is written)."""
    root = tmp_path / "store"
    root.mkdir()
    (root / "a.yaml").write_text("x: 1\n")
    with ReadCache.for_store(root) as first:
        first.read(root / "a.yaml")
    return root


def test_entries_unused_for_the_idle_time_go_and_used_ones_stay(cache: Path,
                                                                tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    _read_cache_of(cache, "old.json", root, IDLE + DAY)
    _read_cache_of(cache, "recent.json", root, IDLE - DAY)
    _file(cache / "validators" / "old.bin", IDLE + DAY)
    _file(cache / "validators" / "recent.bin", IDLE - DAY)
    _prune(cache)
    assert _names(cache / "read-cache") == {"recent.json"}
    assert _names(cache / "validators") == {"recent.bin"}


def test_a_clock_set_wrong_does_not_keep_an_entry_forever(cache: Path) -> None:
    _file(cache / "validators" / "future.bin", -(IDLE + DAY))
    _file(cache / "validators" / "soon.bin", -DAY)
    _prune(cache)
    assert _names(cache / "validators") == {"soon.bin"}


def test_a_read_cache_of_a_store_root_that_is_gone_goes_at_once(cache: Path,
                                                                tmp_path: Path) -> None:
    """The CI case: each run plans a store in a fresh temp directory, removed after."""
    live = tmp_path / "live"
    live.mkdir()
    _read_cache_of(cache, "gone.json", tmp_path / "ci-run-1" / "store", 0)
    _read_cache_of(cache, "live.json", live, 0)
    # no root recorded (version 2, damaged): not known gone, left to age out
    _file(cache / "read-cache" / "v2.json", 0, b"stackctl-read-cache 2\n")
    _file(cache / "read-cache" / "bad.json", 0, b'stackctl-read-cache 3 "rel"\n')
    _file(cache / "read-cache" / "empty.json", 0, b"")
    _read_cache_of(cache, "nul.json", "/a\0b", 0)  # no path the system takes
    _prune(cache)
    assert _names(cache / "read-cache") == {"live.json", "v2.json", "bad.json", "empty.json",
                                            "nul.json"}


def test_a_root_that_cannot_be_looked_at_is_not_taken_for_gone(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    _read_cache_of(cache, "a.json", root, 0)
    lstat = os.lstat

    def denied(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if path == str(root):
            raise PermissionError(13, "denied")
        return lstat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "lstat", denied)
    _prune(cache)
    assert _names(cache / "read-cache") == {"a.json"}


def test_crash_leftover_temp_files_go_after_a_day(cache: Path) -> None:
    _file(cache / "read-cache" / ".stackctl-tmp-1-x-1", DAY + 60)
    _file(cache / "read-cache" / ".stackctl-tmp-2-x-1", 60)  # a write under way
    _prune(cache)
    assert _names(cache / "read-cache") == {".stackctl-tmp-2-x-1"}


def test_files_of_other_names_and_other_directories_are_left_alone(cache: Path) -> None:
    for path in (cache / "read-cache" / "notes.txt", cache / "validators" / "a.json",
                 cache / "other" / "a.json", cache / "a.bin"):
        path.parent.mkdir(exist_ok=True)
        _file(path, IDLE + DAY)
    _prune(cache)
    assert _names(cache / "read-cache") == {"notes.txt"}
    assert _names(cache / "validators") == {"a.json"}
    assert _names(cache / "other") == {"a.json"}
    assert (cache / "a.bin").exists()


def test_no_symlink_is_followed_or_removed(cache: Path, tmp_path: Path) -> None:
    """A symlink in a cache directory, or a cache directory that is one: whatever it
    points to stays, and so does the link."""
    outside = tmp_path / "outside"
    outside.mkdir()
    target = _file(outside / "precious.json", IDLE + DAY)
    _read_cache_of(cache, "x.json", tmp_path / "gone", 0).replace(outside / "orphan.json")
    link = cache / "read-cache" / "link.json"
    link.symlink_to(target)
    (cache / "read-cache" / "orphan.json").symlink_to(outside / "orphan.json")
    (cache / "read-cache" / "dir.json").symlink_to(outside)
    (cache / "validators").rmdir()
    (cache / "validators").symlink_to(outside)
    _file(outside / "old.bin", IDLE + DAY)
    before = time.time() - IDLE
    os.utime(link, (before, before), follow_symlinks=False)
    _prune(cache)
    assert _names(outside) == {"precious.json", "orphan.json", "old.bin"}
    assert _names(cache / "read-cache") == {"link.json", "orphan.json", "dir.json"}
    assert target.stat().st_mtime < time.time() - IDLE  # not even touched
    fd = os.open(cache / "read-cache", os.O_RDONLY)
    try:  # a file swapped for a symlink after its stat: not opened either
        with pytest.raises(OSError, match="symbolic links"):
            cache_prune._root_gone(fd, "orphan.json")
    finally:
        os.close(fd)


def test_the_size_cap_removes_the_least_recently_used_and_keeps_the_newest(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_prune, "MAX_BYTES", 250)
    for age, name in enumerate(["new", "mid", "old", "older"]):
        _file(cache / "validators" / f"{name}.bin", age * 60, b"x" * 100)
    _prune(cache)
    assert _names(cache / "validators") == {"new.bin", "mid.bin"}
    monkeypatch.setattr(cache_prune, "MAX_BYTES", 10)
    _prune(cache)
    assert _names(cache / "validators") == {"new.bin"}  # too large alone, still the newest


def test_a_stamp_limits_pruning_to_once_a_day(cache: Path) -> None:
    cache_prune.after_write(cache)
    assert (cache / cache_prune.STAMP).exists()
    old = _file(cache / "validators" / "old.bin", IDLE + DAY)
    cache_prune.after_write(cache)
    assert old.exists()  # pruned less than a day ago: not again
    stamp = cache / cache_prune.STAMP
    for age in (DAY + 60, -(DAY + 60)):  # a day ago, or a clock set wrong
        _file(old, IDLE + DAY)
        when = time.time() - age
        os.utime(stamp, (when, when))
        cache_prune.after_write(cache)
        assert not old.exists()
        assert abs(stamp.stat().st_mtime - time.time()) < DAY


def test_a_stamp_that_cannot_be_written_means_no_pruning(cache: Path,
                                                         tmp_path: Path) -> None:
    old = _file(cache / "validators" / "old.bin", IDLE + DAY)
    (cache / cache_prune.STAMP).symlink_to(tmp_path / "elsewhere")
    os.utime(cache / cache_prune.STAMP, (0, 0), follow_symlinks=False)  # an old stamp
    cache_prune.after_write(cache)
    assert old.exists()
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("where", ["no cache dir", "a file", "no subdirectories"])
def test_a_cache_dir_that_is_missing_or_no_directory_is_no_error(
        where: str, tmp_path: Path) -> None:
    path = tmp_path / "cache"
    if where == "a file":
        path.write_bytes(b"")
    elif where == "no subdirectories":
        path.mkdir()
    cache_prune.after_write(path)
    cache_prune.prune(path, time.time())


def test_an_oserror_skips_that_file_only(cache: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A file removed by a concurrent process between the listing and its stat, and a
    removal that fails: neither raises, and the other files are still pruned."""
    for name in ("a", "b", "c"):
        _file(cache / "validators" / f"{name}.bin", IDLE + DAY)
    listed = cache_prune._entries

    def racing(dir_fd: int) -> list[os.DirEntry[str]]:
        entries = listed(dir_fd)
        (cache / "validators" / "a.bin").unlink(missing_ok=True)
        return entries

    unlink = os.unlink

    def refused(path: str, *, dir_fd: int | None = None) -> None:
        if path == "b.bin":
            raise PermissionError(1, "refused")
        unlink(path, dir_fd=dir_fd)

    monkeypatch.setattr(cache_prune, "_entries", racing)
    monkeypatch.setattr(os, "unlink", refused)
    _prune(cache)
    assert _names(cache / "validators") == {"b.bin"}


def test_an_oserror_before_the_pass_skips_it(cache: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    old = _file(cache / "validators" / "old.bin", IDLE + DAY)

    def failing(*_a: object, **_k: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "scandir", failing)
    cache_prune.after_write(cache)
    assert old.exists()


def test_a_read_marks_a_read_cache_used_and_it_survives_pruning(cache: Path,
                                                                tmp_path: Path) -> None:
    """A no-op plan rewrites nothing: its read alone keeps its cache."""
    root = _read_once(tmp_path)
    path = ReadCache.for_store(root).path
    _file(path, IDLE + DAY, path.read_bytes())
    with ReadCache.for_store(root) as again:
        again.read(root / "a.yaml")
        assert not again.dirty  # a hit: nothing rewritten
    assert path.stat().st_mtime > time.time() - DAY
    _prune(cache)
    assert path.exists()


def test_a_recent_use_is_not_recorded_again(cache: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """One utime a day at most, not an inode write on every plan."""
    root = _read_once(tmp_path)
    times: list[object] = []
    monkeypatch.setattr(os, "utime", lambda *args, **_k: times.append(args))
    with ReadCache.for_store(root) as again:
        again.read(root / "a.yaml")
    assert times == []


def test_a_read_marks_a_validator_used(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {"type": "object", "required": ["a"]}
    monkeypatch.setattr(schema_check, "_compiled", {})
    assert schema_check.is_valid("t", schema, {"a": 1})
    [entry] = (cache / "validators").iterdir()
    _file(entry, IDLE + DAY, entry.read_bytes())
    monkeypatch.setattr(schema_check, "_compiled", {})  # a new run
    assert schema_check.is_valid("t", schema, {"a": 1})
    assert entry.stat().st_mtime > time.time() - DAY
    _prune(cache)
    assert entry.exists()


def test_writing_a_read_cache_prunes_and_a_no_op_read_does_not(cache: Path,
                                                               tmp_path: Path) -> None:
    root = _read_once(tmp_path)
    orphan = _read_cache_of(cache, "orphan.json", tmp_path / "gone", 0)
    os.utime(cache / cache_prune.STAMP, (0, 0))  # the last pass: long ago
    with ReadCache.for_store(root) as again:  # all hits: nothing written
        again.read(root / "a.yaml")
    assert orphan.exists()
    (root / "b.yaml").write_text("x: 2\n")
    with ReadCache.for_store(root) as changed:
        changed.read(root / "a.yaml")
        changed.read(root / "b.yaml")
    assert not orphan.exists()
    assert ReadCache.for_store(root).path.exists()


def test_compiling_a_validator_prunes(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _file(cache / "validators" / "old.bin", IDLE + DAY)
    monkeypatch.setattr(schema_check, "_compiled", {})
    schema_check.is_valid("t", {"type": "object"}, {})
    assert not old.exists()
    assert len(list((cache / "validators").iterdir())) == 1
