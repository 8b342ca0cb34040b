"""A renamed profile's store in its default place moves with it (``moved:`` of a profile).

A local store's directory (tests/test_moved.py) and a SQL profile's SQLite database at
its default path (``CONFIG/profiles/NAME/stackctl.db``) both move, in the global commit,
crash-safe; a database elsewhere keeps its URL.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import STACKCTL, check_record_only_move, run_process

from stackctl.model import ComponentType
from stackctl.workspace import Workspace

MANIFESTS = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: {profile}}}
spec: {{store: {{type: sql, url: '{url}'}}, activeStack: main}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: orch, profile: {profile}}}
spec: {{type: orchestrator, flavor: local}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: main, profile: {profile}}}
spec: {{components: {{orchestrator: orch, artifact_store: default, metadata_store: default}}}}
"""

PROFILE_MOVE = "moved:\n  - {from: profile/team, to: profile/crew}\n"


def _config() -> Path:
    return Path(os.environ["STACKCTL_CONFIG_PATH"])


def _default_url(name: str) -> str:
    return f"sqlite:///{_config() / 'profiles' / name / 'stackctl.db'}"


def _write(work: Path, profile: str, url: str, moved: str = "") -> None:
    (work / "m" / "all.yaml").write_text(MANIFESTS.format(profile=profile, url=url))
    (work / "stackctl.yaml").write_text(f"manifests: [m]\n{moved}")


def _write_local(work: Path, profile: str, moved: str = "") -> None:
    """The same manifests with a local store."""
    (work / "m").mkdir(parents=True, exist_ok=True)
    local = MANIFESTS.replace("{{type: sql, url: '{url}'}}", "{{type: local}}")
    (work / "m" / "all.yaml").write_text(local.format(profile=profile))
    (work / "stackctl.yaml").write_text(f"manifests: [m]\n{moved}")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """Profile team with its SQLite database at the default path, applied."""
    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)
    _write(work, "team", _default_url("team"))
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    assert (_config() / "profiles" / "team" / "stackctl.db").is_file()
    return work


def _uuid(profile: str) -> str:
    comp = Workspace().state(profile).component(ComponentType.ORCHESTRATOR, "orch")
    assert comp is not None
    return comp.uuid


def _books(profile: str) -> set[str]:
    return set(Workspace().store(profile).bookkeeping().managed)


def _renamed(uuid: str) -> None:
    """The state after the rename: crew's database at its default path, same objects."""
    cfg = Workspace().config()
    assert set(cfg.profiles) == {"crew"}
    crew = cfg.profile("crew")
    assert crew is not None
    assert crew.store_url == _default_url("crew")
    assert not (_config() / "profiles" / "team").exists()
    assert (_config() / "profiles" / "crew" / "stackctl.db").is_file()
    assert _uuid("crew") == uuid
    assert _books("crew") == {"crew/orchestrator/orch", "crew/stack/main"}
    gbooks = Workspace().globals.bookkeeping().managed
    assert "profile/crew" in gbooks
    assert "profile/team" not in gbooks


def test_profile_rename_moves_its_default_sqlite_database(work: Path) -> None:
    uuid = _uuid("team")
    _write(work, "crew", _default_url("crew"), PROFILE_MOVE)
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert (f"~ rename profile/team → crew\n      store_url: {_default_url('team')} → "
            f"{_default_url('crew')}\n") in planned.stdout
    assert "Drift" not in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    _renamed(uuid)
    again = run_process([STACKCTL, "plan"], cwd=work)
    assert again.rc == 0, again.stderr
    assert "No changes." in again.stdout
    assert "Drift" not in again.stdout


def test_sqlite_rename_survives_a_crash_at_every_write_step(work: Path, tmp_path: Path) -> None:
    """SIGKILLed at each write step: the profile is either still team (its database
    maybe already holding the new records) or crew with its database moved, never a
    profile naming a database that is not there; the next plan shows the same rename and
    the next apply finishes it."""
    launcher = str(Path(__file__).parent / "crash_launcher.py")
    config = _config()
    uuid = _uuid("team")
    _write(work, "crew", _default_url("crew"), PROFILE_MOVE)
    saved = tmp_path / "saved"
    shutil.copytree(config, saved)

    steps = tmp_path / "steps"
    clean = run_process([sys.executable, launcher, "0", str(steps), "apply", "-y"], cwd=work)
    assert clean.rc == 0, clean.stderr
    names = steps.read_text().splitlines()
    assert "move team" in names  # the database's directory moves inside the global commit
    for kill_at in range(1, len(names) + 1):
        step = names[kill_at - 1]
        shutil.rmtree(config)
        shutil.copytree(saved, config)
        killed_log = tmp_path / f"killed-{kill_at}"
        crashed = run_process([sys.executable, launcher, str(kill_at), str(killed_log),
                               "apply", "-y"], cwd=work)
        assert killed_log.read_text().splitlines() == names[:kill_at], step
        assert crashed.rc != 0, step
        cfg = Workspace().config()  # recovers an interrupted global commit first
        name = "crew" if "crew" in cfg.profiles else "team"
        assert set(cfg.profiles) == {name}, step
        profile = cfg.profile(name)
        assert profile is not None
        assert profile.store_url == _default_url(name), step
        assert (config / "profiles" / name / "stackctl.db").is_file(), step
        assert not (config / "profiles" / ({"crew", "team"} - {name}).pop()).exists(), step
        planned = run_process([STACKCTL, "plan"], cwd=work)
        assert planned.rc == 0, (step, planned.stderr)
        assert ("~ rename profile/team → crew" in planned.stdout) == (name == "team"), step
        applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
        assert applied.rc == 0, (step, applied.stderr)
        _renamed(uuid)
        again = run_process([STACKCTL, "plan"], cwd=work)
        assert "No changes." in again.stdout, (step, again.stdout)


def test_sqlite_lock_for_the_move_blocks_writers_and_closes_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock held while a renamed profile's database moves: no other writer can begin;
    when it ends, the store keeps no connection open (the file may move)."""
    import sqlite3

    from stackctl.defaults import default_state
    from stackctl.errors import LockError
    from stackctl.stores.sql import SqlStore

    monkeypatch.setenv("STACKCTL_LOCK_TIMEOUT", "0.2")
    path = tmp_path / "team.db"
    store = SqlStore("team", f"sqlite:///{path}")
    store.initialize(default_state(tmp_path))
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    with store.locked():
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        with pytest.raises(LockError), SqlStore("team", f"sqlite:///{path}").locked():
            pass
    assert store._engine is None  # the pool is closed, not only the connection returned
    other.execute("BEGIN IMMEDIATE")  # free again
    other.execute("ROLLBACK")
    other.close()


@pytest.mark.parametrize("backend", ["local", "sqlite"])
def test_rename_onto_an_occupied_store_directory_is_refused(tmp_path: Path,
                                                            backend: str) -> None:
    """Something already at the new name's default directory: the store cannot move
    there, and the profile would name a store that is not its own; refused, nothing
    changed."""
    from helpers import snapshot

    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)

    def write(profile: str, moved: str = "") -> None:
        if backend == "sqlite":
            _write(work, profile, _default_url(profile), moved)
        else:
            _write_local(work, profile, moved)

    write("team")
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    leftover = _config() / "profiles" / "crew"
    leftover.mkdir()
    (leftover / "notes.txt").write_text("mine\n")
    write("crew", PROFILE_MOVE)
    before = snapshot(_config())
    for argv in (["plan"], ["apply", "-y"]):
        result = run_process([STACKCTL, *argv], cwd=work)
        assert result.rc == 1, result.stdout
        assert (f"stackctl.yaml:3:12: moved: profile/team → profile/crew: its store would move "
                f"to {leftover}, which already exists; move that away or drop the move"
                ) in result.stderr, result.stderr
    assert snapshot(_config()) == before


def test_store_directory_appearing_during_the_apply_stops_the_rename(
        work: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The new name's directory taken while the rename applies (after the store's commit,
    before the global one): apply refuses the global commit; the profile keeps its name
    and its database, and once the directory is gone the next apply finishes."""
    from stackctl.stores.sql import SqlStore

    _write(work, "crew", _default_url("crew"), PROFILE_MOVE)
    leftover = _config() / "profiles" / "crew"
    monkeypatch.setattr(SqlStore, "after_rows_written",
                        staticmethod(lambda _conn: leftover.mkdir(exist_ok=True)))
    applied = cli("apply", "-y", cwd=work)
    monkeypatch.setattr(SqlStore, "after_rows_written", None)
    assert applied.rc == 1
    assert f"{leftover} appeared, where its store would move" in applied.err
    cfg = Workspace().config()
    assert set(cfg.profiles) == {"team"}
    assert (_config() / "profiles" / "team" / "stackctl.db").is_file()
    assert list(leftover.iterdir()) == []
    leftover.rmdir()
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert "~ rename profile/team → crew" in planned.stdout  # the next apply finishes it
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    assert Workspace().config().profile("crew") is not None


def _deleted_by_hand(work: Path) -> dict[str, Any]:
    """Profile team applied, then its global config entry and store removed by hand; the
    manifests rename it to crew. Returns the removed entry."""
    import yaml

    _write_local(work, "team")
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    path = _config() / "config.yaml"
    doc = yaml.safe_load(path.read_text())
    entry: dict[str, Any] = doc["profiles"].pop("team")
    path.write_text(yaml.safe_dump(doc))
    shutil.rmtree(_config() / "profiles" / "team")
    _write_local(work, "crew", PROFILE_MOVE)
    return entry


def test_rename_of_a_profile_deleted_outside_stackctl_moves_its_record(tmp_path: Path) -> None:
    """Only in stackctl's bookkeeping: the record follows the rename, the new profile is
    created, and the old name's deletion is reported once, not forever."""
    work = tmp_path / "work"
    _deleted_by_hand(work)
    check_record_only_move(work, "profile/team", "profile/crew",
                           lambda: Workspace().globals.bookkeeping().managed)
    assert _books("crew") == {"crew/orchestrator/orch", "crew/stack/main"}


def test_record_only_profile_rename_stops_if_the_profile_comes_back(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile reappears in the global config while the apply runs (before its global
    commit): its record is not moved onto the new name, nothing global is written."""
    import yaml

    from stackctl.stores import files

    work = tmp_path / "work"
    entry = _deleted_by_hand(work)
    path = _config() / "config.yaml"

    def put_back(_step: str) -> None:  # at the new store's first write step
        doc = yaml.safe_load(path.read_text())
        if (_config() / "profiles" / "crew").exists() and "team" not in doc["profiles"]:
            doc["profiles"]["team"] = entry
            path.write_text(yaml.safe_dump(doc))

    monkeypatch.setattr(files, "fault_hook", put_back)
    books = Workspace().globals.bookkeeping().managed
    applied = cli("apply", "-y", cwd=work)
    assert applied.rc == 1
    assert "profile 'team' was not renamed to 'crew'" in applied.err, applied.err
    assert Workspace().globals.bookkeeping().managed == books
    assert "crew" not in Workspace().config().profiles


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_other_machine_sharing_a_renamed_store_is_told_and_renames_its_entry(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    """Two machines (two global configs) share one SQL store. One renames the profile; the
    other, still naming it team, is refused with what happened and what to do (instead of
    taking the objects over under the old names), and with the project's move it renames
    its own entry: the store is not touched again."""
    url = (f"sqlite:///{tmp_path / 'shared.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgresql_url"))
    here, there = tmp_path / "here", tmp_path / "there"
    for work in (here, there):
        (work / "m").mkdir(parents=True)
        _write(work, "team", url)
    machine_b = {"STACKCTL_CONFIG_PATH": str(tmp_path / "machine-b")}
    assert run_process([STACKCTL, "apply", "-y"], cwd=here).rc == 0
    created = run_process([STACKCTL, "profile", "create", "team", "--store-type", "sql",
                           "--url", url], cwd=there, env=machine_b)
    assert created.rc == 0, created.stderr
    assert run_process([STACKCTL, "apply", "-y"], cwd=there, env=machine_b).rc == 0
    uuid = _uuid("team")
    _write(here, "crew", url, PROFILE_MOVE)
    assert run_process([STACKCTL, "apply", "-y"], cwd=here).rc == 0
    shared = Workspace().store("crew")
    books = dict(shared.bookkeeping().managed)

    planned = run_process([STACKCTL, "plan"], cwd=there, env=machine_b)  # not yet pulled
    assert planned.rc == 1
    assert ("m/all.yaml:3:18: profile/team: its store's records name profile 'crew': the "
            "profile was renamed to 'crew' through another global config (another machine "
            "sharing this store?), and this machine's still names it 'team'. Rename it here "
            "too: declare profile/crew with `moved: [{from: profile/team, to: profile/crew}]` "
            "in stackctl.yaml (as the project that renamed it does) and apply"
            ) in planned.stderr, planned.stderr
    applied = run_process([STACKCTL, "apply", "-y"], cwd=there, env=machine_b)
    assert applied.rc == 1
    assert dict(shared.bookkeeping().managed) == books  # nothing taken over as team/...

    _write(there, "crew", url, PROFILE_MOVE)  # pulled
    planned = run_process([STACKCTL, "plan"], cwd=there, env=machine_b)
    assert planned.rc == 0, planned.stderr
    assert "~ rename profile/team → crew\n" in planned.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete. 1 to rename." in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=there, env=machine_b)
    assert applied.rc == 0, applied.stderr
    assert dict(shared.bookkeeping().managed) == books
    assert _uuid("crew") == uuid
    for work, env in ((here, {}), (there, machine_b)):
        again = run_process([STACKCTL, "plan"], cwd=work, env=env)
        assert "No changes." in again.stdout, again.stdout
    shared.close()


def test_no_connection_of_the_apply_is_open_on_the_database_when_it_moves(
        work: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apart from the lock held for the move, the apply's own connections to the old
    database (its store's commit, the plan's read) are closed before it moves."""
    import contextlib

    from stackctl.stores import files
    from stackctl.stores.sql import SqlStore

    database = _config() / "profiles" / "team" / "stackctl.db"
    open_at_move: list[list[str]] = []

    def hook(step: str) -> None:
        if step == "move team":
            fds = Path("/proc/self/fd")
            targets = [os.path.realpath(fds / fd) for fd in os.listdir(fds)]
            open_at_move.append([t for t in targets if t == str(database)])

    monkeypatch.setattr(files, "fault_hook", hook)
    monkeypatch.setattr(SqlStore, "locked", lambda _self: contextlib.nullcontext())
    _write(work, "crew", _default_url("crew"), PROFILE_MOVE)
    applied = cli("apply", "-y", cwd=work)
    assert applied.rc == 0, applied.err
    assert open_at_move == [[]]


def test_rename_of_a_profile_whose_entry_alone_was_deleted_is_refused(tmp_path: Path) -> None:
    """Its global config entry removed by hand, its store left in place: renaming now
    would create the new profile empty beside it (new uuids); refused with the way out,
    which then renames it keeping its objects."""
    import yaml

    work = tmp_path / "work"
    _write_local(work, "team")
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    uuid = _uuid("team")
    path = _config() / "config.yaml"
    doc = yaml.safe_load(path.read_text())
    del doc["profiles"]["team"]
    path.write_text(yaml.safe_dump(doc))
    _write_local(work, "crew", PROFILE_MOVE)
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 1
    assert ("stackctl.yaml:3:12: moved: profile/team → profile/crew: profile/team is missing "
            "from the global config but its store is still in its directory (profiles/team in "
            "the config directory); apply once declaring profile/team (listing it again with "
            "that store), then rename it") in planned.stderr, planned.stderr
    _write_local(work, "team")  # the way out
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    _write_local(work, "crew", PROFILE_MOVE)
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    assert _uuid("crew") == uuid
