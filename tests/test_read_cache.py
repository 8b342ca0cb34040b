"""The stat-validated read cache: faster reads, never a stale or secret one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackctl.stores import read_cache
from stackctl.stores.read_cache import ReadCache


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(read_cache, "RACY_SECONDS", 0.0)
    store = tmp_path / "store"
    store.mkdir()
    return store


def _read(root: Path, name: str) -> dict[str, object]:
    with ReadCache.for_store(root) as cache:
        return cache.read(root / name)


def _read_all(root: Path, names: tuple[str, ...]) -> list[dict[str, object]]:
    with ReadCache.for_store(root) as cache:
        return [cache.read(root / f"{name}.yaml") for name in names]


def _cached(root: Path) -> dict[str, list[object]]:
    """key -> [mtime_ns, ctime_ns, size, inode, data] of each line of the cache."""
    lines = ReadCache.for_store(root).path.read_bytes().splitlines()
    assert lines[0] == b"stackctl-read-cache 3 " + json.dumps(str(root.resolve())).encode()
    entries = {}
    for line in lines[1:]:
        key, signature, data = line.split(b"\t")
        entries[json.loads(key)] = [*map(int, signature.split()), json.loads(data)]
    return entries


def test_second_read_comes_from_the_cache(root: Path) -> None:
    (root / "a.yaml").write_text("name: a\npath: /x\n")
    assert _read(root, "a.yaml") == {"name": "a", "path": "/x"}
    assert "a.yaml" in _cached(root)
    # poison the cached value: a hit must return it, proving no re-parse happened
    path = ReadCache.for_store(root).path
    path.write_bytes(path.read_bytes().replace(b'{"name":"a","path":"/x"}',
                                               b'{"name":"from-cache"}'))
    assert _read(root, "a.yaml") == {"name": "from-cache"}


def test_a_hand_edit_of_the_same_size_is_seen(root: Path) -> None:
    target = root / "a.yaml"
    target.write_text("path: /aaaa\n")
    assert _read(root, "a.yaml") == {"path": "/aaaa"}
    target.write_text("path: /bbbb\n")  # same size; ctime/mtime move
    assert _read(root, "a.yaml") == {"path": "/bbbb"}


def test_secret_files_are_never_cached(root: Path) -> None:
    target = root / "s3.yaml"
    target.write_text("secret: hunter2\n")
    target.chmod(0o600)
    assert _read(root, "s3.yaml") == {"secret": "hunter2"}
    assert not ReadCache.for_store(root).path.exists() or "s3.yaml" not in _cached(root)


def test_files_younger_than_the_racy_window_are_not_trusted(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_cache, "RACY_SECONDS", 3600.0)
    (root / "a.yaml").write_text("x: 1\n")
    _read(root, "a.yaml")
    assert not ReadCache.for_store(root).path.exists() or "a.yaml" not in _cached(root)


def test_entries_of_deleted_files_are_dropped_and_cache_lives_outside_the_store(
        root: Path) -> None:
    (root / "a.yaml").write_text("x: 1\n")
    (root / "b.yaml").write_text("x: 2\n")
    with ReadCache.for_store(root) as cache:
        cache.read(root / "a.yaml")
        cache.read(root / "b.yaml")
    with ReadCache.for_store(root) as cache:
        cache.read(root / "a.yaml")
    assert set(_cached(root)) == {"a.yaml"}
    assert root not in ReadCache.for_store(root).path.parents
    assert sorted(p.name for p in root.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_corrupt_cache_is_ignored(root: Path) -> None:
    (root / "a.yaml").write_text("x: 1\n")
    path = ReadCache.for_store(root).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert _read(root, "a.yaml") == {"x": 1}


def test_deleting_a_profile_drops_its_read_cache(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from stackctl.operations import profiles

    monkeypatch.setattr(read_cache, "RACY_SECONDS", 0.0)
    from stackctl.workspace import Workspace

    ws = Workspace(root=tmp_path / "config")
    ws.ensure_initialized()
    created = profiles.create(ws, "doomed")
    ws.state("doomed")  # a read fills the cache
    store_root = Path(created.store_url.removeprefix("file://"))
    cache = ReadCache.for_store(store_root).path
    assert cache.exists()
    profiles.delete(ws, "doomed")
    assert not cache.exists()
    assert not store_root.exists()


def test_a_cache_of_version_1_is_ignored_and_replaced(root: Path) -> None:
    (root / "a.yaml").write_text("x: 1\n")
    st = (root / "a.yaml").stat()
    path = ReadCache.for_store(root).path
    path.parent.mkdir(parents=True, exist_ok=True)
    old = [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, {"x": "stale"}]
    path.write_text(json.dumps({"version": 1, "entries": {"a.yaml": old}}))
    assert _read(root, "a.yaml") == {"x": 1}
    assert _cached(root)["a.yaml"][4] == {"x": 1}


def test_damaged_lines_are_plain_reads_and_other_lines_still_hit(root: Path) -> None:
    names = ("a", "b", "c")
    for name in names:
        (root / f"{name}.yaml").write_text(f"name: {name}\n")
    _read_all(root, names)
    path = ReadCache.for_store(root).path
    lines = path.read_bytes().splitlines(keepends=True)
    # a: cut short; b: a second part that is no signature; c: poisoned, but whole
    lines[1] = lines[1][:12]
    lines[2] = b'"b.yaml"\tnot json\n'
    lines[3] = lines[3].replace(b'{"name":"c"}', b'{"name":"from-cache"}')
    path.write_bytes(b"".join(lines))
    assert _read_all(root, names) == [{"name": "a"}, {"name": "b"}, {"name": "from-cache"}]


def test_a_cached_mapping_is_fresh_and_keys_are_shared(root: Path) -> None:
    (root / "a.yaml").write_text("path: /x\nport: 1\n")
    (root / "b.yaml").write_text("path: /y\nport: 2\n")
    parsed = _read_all(root, ("a", "b"))  # parsed, and filling the cache
    assert next(k for k in parsed[0] if k == "port") is next(k for k in parsed[1] if k == "port")
    with ReadCache.for_store(root) as cache:
        first, second = cache.read(root / "a.yaml"), cache.read(root / "b.yaml")
        first["path"] = "/changed"
        assert cache.read(root / "a.yaml") == {"path": "/x", "port": 1}
    assert next(k for k in first if k == "port") is next(k for k in second if k == "port")


def test_non_ascii_names_and_values_round_trip(root: Path) -> None:
    (root / "é\tx.yaml").write_text("name: ü\n")
    assert _read(root, "é\tx.yaml") == {"name": "ü"}
    assert _cached(root)["é\tx.yaml"][4] == {"name": "ü"}
    assert _read(root, "é\tx.yaml") == {"name": "ü"}


@pytest.mark.parametrize("header", [b"stackctl-read-cache 2\n", b"stackctl-read-cache 3\n",
                                    b'stackctl-read-cache 3 "/elsewhere"\n',
                                    b"stackctl-read-cache 3 {not json\n"])
def test_a_cache_of_version_2_or_of_another_root_is_ignored_and_replaced(
        root: Path, header: bytes) -> None:
    """Version 2 recorded no store root (pruning needs it); a header naming another
    root or none that parses is not ours: its lines are never read."""
    (root / "a.yaml").write_text("x: 1\n")
    _read(root, "a.yaml")
    path = ReadCache.for_store(root).path
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(header + lines[1].replace(b'{"x":1}', b'{"x":"stale"}'))
    assert _read(root, "a.yaml") == {"x": 1}
    assert _cached(root)["a.yaml"][4] == {"x": 1}


@pytest.mark.parametrize(("line", "root"), [
    (b'stackctl-read-cache 3 "/s/t\\u00e9"\n', "/s/t\u00e9"),
    (b'stackctl-read-cache 3 "/s"', None),  # cut short
    (b'stackctl-read-cache 3 "relative"\n', None),
    (b"stackctl-read-cache 3 42\n", None), (b"stackctl-read-cache 3 \xff\n", None),
    (b"stackctl-read-cache 2\n", None), (b"", None),
])
def test_the_recorded_root_is_read_only_from_a_whole_header(line: bytes,
                                                            root: str | None) -> None:
    assert read_cache.recorded_root(line) == root
