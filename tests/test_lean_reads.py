"""What a plan of many resources does not read, build or keep (issue 12, closer to the floor).

Each shortcut keeps the behaviour: last-applied records are read only when a
drifted field or a rename asks for them (and never from a store changed since
the read), ``stacks.yaml`` comes from the read cache like the component files,
no live object is shaped for policies that do not exist, and a commit's temp
files keep the names the crash recovery relies on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stackctl.errors import ConfigFileError, StaleStateError
from stackctl.model import Component, ComponentType, ProfileState, Stack
from stackctl.stores import files, local, read_cache, yamlio
from stackctl.stores.base import LazyRecords
from stackctl.stores.local import LocalStore
from stackctl.stores.urls import file_url

ART = ComponentType.ARTIFACT_STORE
ORCH = ComponentType.ORCHESTRATOR
META = ComponentType.METADATA_STORE
RECORD = {"salt": "s", "view": {"config": {"path": "/a"}, "flavor": "local"}}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    monkeypatch.setenv("STACKCTL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(read_cache, "RACY_SECONDS", 0.0)
    seed = ProfileState(
        components={(ORCH, "o"): Component(ORCH, "o", "local", "u-o", {}),
                    (ART, "a"): Component(ART, "a", "local", "u-a", {"path": "/a"}),
                    (META, "m"): Component(META, "m", "sqlite", "u-m", {"uri": "/m.db"})},
        stacks={"s": Stack("s", {ORCH: "o", ART: "a", META: "m"})})
    made = LocalStore("team", file_url(str(tmp_path / "profiles" / "team")))
    made.create(seed, {"team/artifact_store/a": "print"}, {},
                {"team/artifact_store/a": RECORD})
    return made


# -- last-applied records, read when asked for ------------------------------------------------

def test_records_are_read_only_when_asked_for(store: LocalStore,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    records = LocalStore._records
    monkeypatch.setattr(LocalStore, "_records", lambda self, sig: (
        calls.append(1), records(self, sig))[1])
    state, books = store.load_with_books()
    assert isinstance(books.applied, LazyRecords)
    assert books.managed == {"team/artifact_store/a": "print"}  # the rest is read at once
    assert state.components[(ART, "a")].config == {"path": "/a"}
    assert calls == []
    assert books.applied["team/artifact_store/a"] == RECORD  # asked for: read now, once
    assert dict(books.applied) == {"team/artifact_store/a": RECORD}
    assert calls == [1]


def test_records_of_a_store_committed_to_since_the_read_are_refused(store: LocalStore) -> None:
    _, books = store.load_with_books()
    with store.transaction() as tx:
        tx.put_component(Component(ART, "b", "local", "u-b", {"path": "/b"}))
    with pytest.raises(StaleStateError, match="changed while it was being read"):
        books.applied.get("team/artifact_store/a")


def test_a_store_without_records_has_plain_empty_ones(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKCTL_CACHE_DIR", str(tmp_path / "cache"))
    made = LocalStore("team", file_url(str(tmp_path / "p")))
    made.create(ProfileState({}, {}), {})
    assert made.load_with_books()[1].applied == {}


def test_load_with_books_is_load_and_bookkeeping(store: LocalStore) -> None:
    state, books = store.load_with_books()
    assert state == store.load()
    plain = store.bookkeeping()
    assert (books.lineage, books.serial, dict(books.managed), dict(books.owners),
            dict(books.applied)) == (plain.lineage, plain.serial, dict(plain.managed),
                                     dict(plain.owners), dict(plain.applied))


@pytest.mark.parametrize("indent", [None, 1])
def test_state_without_records_is_the_state_with_a_marker(indent: int | None) -> None:
    data = {"applied": {"x": RECORD, "y": {"salt": "t", "view": {}}},
            "flavor_schemas": {"orchestrator/f": {"properties": {"salt": {"view": {}}}}},
            "lineage": "l", "managed": {"x": "p"}, "owners": {}, "serial": 3}
    text = json.dumps(data, indent=indent, sort_keys=True)  # older files: indent=1
    assert local._without_records(text) == {**data, "applied": {"": {}}}
    empty = json.dumps({**data, "applied": {}}, sort_keys=True)
    assert local._without_records(empty) == {**data, "applied": {}}


@pytest.mark.parametrize("text", [
    '{"applied": {"a": 5}, "serial": 1}',  # a record that is no object: the full parse says so
    '{"applied": [], "serial": 1}',
    '{"serial": 1, "applied": {}}',  # not written by stackctl (keys unsorted)
    '{"applied": {}, "applied": {"a": 5}}',
    '{"applied": {} } trailing',
    '{"applied": {"a": {"salt": ',
])
def test_anything_unexpected_is_left_to_the_full_parse(text: str) -> None:
    assert local._without_records(text) is None


def test_damaged_records_are_still_a_clean_error(store: LocalStore) -> None:
    path = store.meta / "state.json"
    data = json.loads(path.read_text())
    data["applied"] = {"team/artifact_store/a": 5}
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigFileError, match="'applied' is not an object"):
        store.load_with_books()


# -- stacks.yaml through the read cache --------------------------------------------------------

def test_stacks_yaml_comes_from_the_read_cache_until_it_changes(
        store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    first = store.load_with_books()[0]
    parse = yamlio.parse_mapping

    def no_parse(raw: bytes, path: str | Path) -> dict[str, Any]:
        raise AssertionError(f"parsed {path} again")

    monkeypatch.setattr(yamlio, "parse_mapping", no_parse)
    assert store.load_with_books()[0] == first
    monkeypatch.setattr(yamlio, "parse_mapping", parse)
    text = store.stacks_file.read_text()
    store.stacks_file.write_text(text.replace("  s:\n", "  renamed:\n", 1))
    assert set(store.load_with_books()[0].stacks) == {"renamed"}


# -- no live objects without policies ------------------------------------------------------------

def test_no_live_object_is_shaped_without_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    from stackctl.policy import live as policy_live

    def shaped(*_a: object) -> dict[str, Any]:
        raise AssertionError("live objects built for no policy")

    monkeypatch.setattr(policy_live, "live_objects", shaped)
    desired = SimpleNamespace(sources={"team/stack/s": object()})
    assert policy_live.plan_policies(None, desired, "default", None) == []  # type: ignore[arg-type]


# -- temp files of a commit ----------------------------------------------------------------------

def test_temp_files_carry_the_writer_pid_and_exact_modes(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        public = files.write_temp(tmp_path / "sub" / "a.yaml", b"a: 1\n")
        private = files.write_temp(tmp_path / "sub" / "a.yaml", b"b", private=True)
    finally:
        os.umask(old)
    for name in (public, private):
        assert Path(name).parent == tmp_path / "sub"
        assert Path(name).name.startswith(f".stackctl-tmp-{os.getpid()}-")
    assert public != private
    assert Path(public).read_bytes() == b"a: 1\n"
    assert (Path(public).stat().st_mode & 0o777, Path(private).stat().st_mode & 0o777) == (
        0o644, 0o600)


def test_a_large_commit_writes_every_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    meta = tmp_path / ".stackctl"
    writes = {str(tmp_path / f"d{i % 3}" / f"f{i}.yaml"): f"i: {i}\n".encode()
              for i in range(files.BATCH_SYNC_THRESHOLD * 2)}
    writes[str(tmp_path / "d0" / "secret.yaml")] = b"s: 1\n"
    files.commit_files(meta, writes, [], private=lambda p: p.endswith("secret.yaml"))
    for path, data in writes.items():
        assert Path(path).read_bytes() == data
    assert (tmp_path / "d0" / "secret.yaml").stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.rglob(".stackctl-tmp-*"))
    assert not (meta / files.JOURNAL_NAME).exists()


def test_a_bare_file_name_is_written_in_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files.atomic_write(Path("plan.json"), b"{}")
    files.commit_files(tmp_path / ".stackctl", {"a.yaml": b"a: 1\n"}, [])
    assert (tmp_path / "plan.json").read_bytes() == b"{}"
    assert (tmp_path / "a.yaml").read_bytes() == b"a: 1\n"
    assert not list(tmp_path.glob(".stackctl-tmp-*"))
