"""A cold no-op plan (issue 12: stackctl's read cache emptied) does no needless work.

Each shortcut keeps the behaviour: the recovery check still finds a crashed commit's
temp files, fingerprints are the same text, package data is found without
importlib.resources.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackctl.model import Component, ComponentType, ProfileState, Stack
from stackctl.stores import files, read_cache
from stackctl.stores.local import LocalStore
from stackctl.stores.urls import file_url

ART = ComponentType.ARTIFACT_STORE
ORCH = ComponentType.ORCHESTRATOR
META = ComponentType.METADATA_STORE


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    """A local store of one stack: an orchestrator, an artifact and a metadata store."""
    monkeypatch.setenv("STACKCTL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(read_cache, "RACY_SECONDS", 0.0)
    members = {ORCH: ("o", "local", {}), ART: ("a", "local", {"path": "/a"}),
               META: ("m", "sqlite", {"uri": "/m.db"})}
    made = LocalStore("cold", file_url(str(tmp_path / "profiles" / "cold")))
    made.create(ProfileState(
        components={(t, n): Component(t, n, f, f"u-{n}", c) for t, (n, f, c) in members.items()},
        stacks={"s": Stack("s", {t: n for t, (n, _, _) in members.items()})}), {}, {}, {})
    return made


@pytest.mark.parametrize("where", [".", ".stackctl", "artifact_stores", "orchestrators"])
def test_a_read_sweeps_a_crashed_commits_temp_file_from_each_store_directory(
        store: LocalStore, where: str) -> None:
    """The recovery check looks for temp files by name only (files.has_temp_files, no
    glob): one left in any of the store's directories is still found and removed."""
    leftover = store.root / where / ".stackctl-tmp-999-x-1"
    leftover.write_bytes(b"half a file")
    keep = store.root / where / "stackctl-tmp-not-ours"
    keep.write_bytes(b"")
    store.load_with_books()
    assert not leftover.exists()
    assert keep.exists()
    assert not files.has_temp_files(store.root / where)
    assert not files.has_temp_files(store.root / "no-such-dir")


def test_a_fingerprint_is_json_sorted_and_builds_no_encoder_per_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The fingerprint of every resource a plan reads: the same text as json.dumps with
    sorted keys (stable across versions: saved plans and records hold them), from one
    encoder made once instead of one per call."""
    import hashlib

    from stackctl.fingerprint import fingerprint

    value = {"flavor": "s3", "config": {"path": "s3://b", "key": None, "n": [1, 2.5, "é"],
                                        "a": {"z": True, "y": "x"}}}
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    assert fingerprint(value) == hashlib.sha256(text.encode()).hexdigest()[:32]
    made: list[int] = []
    init = json.JSONEncoder.__init__
    monkeypatch.setattr(json.JSONEncoder, "__init__",
                        lambda self, **kw: (made.append(1), init(self, **kw))[1])
    fingerprint(value)
    assert made == []


def test_a_string_without_a_yaml11_pattern_for_its_first_character_costs_no_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast YAML path's walk takes most strings, keys and values (uuids, paths,
    names: letters no YAML 1.1 pattern starts with), without a call; the rest are still
    checked."""
    from stackctl import yamlfast

    # strings checked by earlier tests are remembered (and then cost no call either)
    monkeypatch.setattr(yamlfast, "_SAFE_KEYS", set())
    assert yamlfast.fast_mapping("path: /first\nuuid: a-1\n") == {"path": "/first",
                                                                   "uuid": "a-1"}
    calls: list[str] = []
    alike = yamlfast._string_alike
    monkeypatch.setattr(yamlfast, "_string_alike",
                        lambda text, *rest: (calls.append(text), alike(text, *rest))[1])
    text = "path: /cold/9f2\nuuid: cafe-01\nname: ml-3\nk-cold-1: x\n"
    assert yamlfast.fast_mapping(text) == {"path": "/cold/9f2", "uuid": "cafe-01",
                                           "name": "ml-3", "k-cold-1": "x"}
    assert [c for c in calls if c != "name"] == []  # "n" starts YAML 1.1's null and bool
    assert yamlfast.fast_mapping("path: '1e3'\nuuid: 'on'\n") == {"path": "1e3", "uuid": "on"}
    assert {"1e3", "on"} <= set(calls)  # a risky first character: checked as before
    assert yamlfast.fast_mapping("path: 1e3\n") is None  # read otherwise by YAML 1.1


@pytest.mark.parametrize("uid", ["2d5f40c5-ee4a-4d21-99a0-48a2bd4427a8",
                                 "12345678-1234-1234-1234-123456789012",
                                 "1e345678-0e00-4e00-8e00-00000000001e"])
def test_a_uuid_beside_a_number_is_vouched_for_without_parsing_it(
        uid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ZenML file's uuid (most start with a digit) reads as the same string in YAML 1.1
    and 1.2: the fast path takes it as it takes a short integer, without reading the token
    both ways, and gives what yaml.load gives."""
    import yaml

    from stackctl import yamlfast

    read: list[str] = []
    alike = yamlfast._token_alike
    monkeypatch.setattr(yamlfast, "_token_alike",
                        lambda token: (read.append(token), alike(token))[1])
    text = f"name: orch\nport: 9000\nuuid: {uid}\n"
    assert yamlfast.fast_mapping(text) == yaml.safe_load(text) == {
        "name": "orch", "port": 9000, "uuid": uid}
    assert read == []
    assert yamlfast.fast_mapping(f"port: 9000\nuuid: {uid}0\n") == yaml.safe_load(
        f"port: 9000\nuuid: {uid}0\n")
    assert read == [f"{uid}0"]  # not a canonical uuid: read both ways, as before


def test_a_change_made_for_the_planner_equals_the_constructors() -> None:
    """Change.of (the planner's, one per resource) sets every field the constructor
    sets, and the address; the change stays frozen and compares, hashes, serializes
    alike. A field added to Change without adding it to Change.of fails here."""
    import dataclasses

    from stackctl.model import Address
    from stackctl.plan.model import Change, FieldChange

    key = Address.component("team", ART, "a")
    given = {"key": key, "action": "update", "before": {"config": {"path": "/a"}},
             "after": {"config": {"path": "/b"}},
             "fields": (FieldChange("config.path", "/a", "/b"),), "adopt": False,
             "impact": ("stack 's'",)}
    made = Change.of(**given, address=str(key))
    plain = Change(**given)  # type: ignore[arg-type]
    # every field set (an unset slot has no value); no __dict__ (its ~250 bytes, once
    # per resource, were ~20 MiB of a no-op plan's peak at 100,000 components)
    assert all(hasattr(made, f.name) for f in dataclasses.fields(Change))
    assert not hasattr(made, "__dict__")
    assert made == plain
    assert made.to_dict() == plain.to_dict()
    assert made.address == plain.address == "team/artifact_store/a"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.action = "delete"  # type: ignore[misc]
