"""``moved:`` in stackctl.yaml renames a component or stack in place: same uuid, stacks follow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import STACKCTL, check_record_only_move, run_process, snapshot

from stackctl.model import ComponentType
from stackctl.workspace import Workspace

MANIFESTS = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: team}}
spec: {{store: {store}{active}}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: {orch}, profile: team}}
spec: {{type: orchestrator, flavor: local}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: {stack}, profile: team}}
spec: {{components: {{orchestrator: {orch}, artifact_store: default, metadata_store: default}}}}
"""

ORCH = "team/orchestrator/old → new"


def _write(work: Path, *, orch: str = "old", stack: str = "main", active: str = "",
           moved: str = "", store: str = "{type: local}") -> None:
    (work / "m" / "all.yaml").write_text(MANIFESTS.format(orch=orch, stack=stack, active=active,
                                                          store=store))
    (work / "stackctl.yaml").write_text(f"manifests: [m]\nmoved:\n{moved}" if moved else
                                        "manifests: [m]\n")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """Profile team with orchestrator 'old' used by stack 'main' (active), applied."""
    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)
    _write(work, active=", activeStack: main")
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    return work


def _uuid(name: str) -> str:
    comp = Workspace().state("team").component(ComponentType.ORCHESTRATOR, name)
    assert comp is not None
    return comp.uuid


def test_component_rename_keeps_uuid_and_updates_stacks(work: Path) -> None:
    uuid = _uuid("old")
    _write(work, orch="new", active=", activeStack: main",
           moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n")
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert "~ rename team/orchestrator/old → new\n" in planned.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete. 1 to rename." in planned.stdout
    assert "delete" not in planned.stdout.replace("0 to delete", "")
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    state = Workspace().state("team")
    assert _uuid("new") == uuid
    assert state.component(ComponentType.ORCHESTRATOR, "old") is None
    assert state.stacks["main"].components[ComponentType.ORCHESTRATOR] == "new"
    # the bookkeeping moved with it: nothing left to do, no drift, nothing to adopt
    again = run_process([STACKCTL, "plan"], cwd=work)
    assert again.rc == 0, again.stderr
    assert "No changes." in again.stdout
    assert "~ rename" not in again.stdout
    assert "(team/orchestrator/new does: already renamed)" in again.stdout
    assert "Drift" not in again.stdout
    assert "now managed" not in again.stdout
    managed = Workspace().store("team").bookkeeping().managed
    assert "team/orchestrator/new" in managed
    assert "team/orchestrator/old" not in managed


def test_renamed_active_stack_stays_active(work: Path) -> None:
    _write(work, stack="prod", moved="  - {from: team/stack/main, to: team/stack/prod}\n")
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert "~ rename team/stack/main → prod\n" in planned.stdout
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    ws = Workspace()
    assert set(ws.state("team").stacks) == {"default", "prod"}
    profile = ws.config().profile("team")
    assert profile is not None
    assert profile.active_stack == "prod"
    assert "No changes." in run_process([STACKCTL, "plan"], cwd=work).stdout


def test_move_with_nothing_to_rename_is_a_noop_with_a_note(work: Path) -> None:
    _write(work, active=", activeStack: main",
           moved="  - {from: team/orchestrator/ghost, to: team/orchestrator/spirit}\n")
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert (f"note: {work / 'stackctl.yaml'}:3:12: moved: team/orchestrator/ghost exists "
            "neither live nor in stackctl's bookkeeping; nothing to rename\n") in planned.stdout
    assert "No changes." in planned.stdout


@pytest.mark.parametrize(("moved", "message"), [
    ("  - {from: team/orchestrator/old, to: team/orchestrator/a}\n"
     "  - {from: team/orchestrator/old, to: team/orchestrator/b}\n",
     "stackctl.yaml:4:12: error: moved: team/orchestrator/old is moved twice (also at "),
    ("  - {from: team/orchestrator/x, to: team/orchestrator/new}\n"
     "  - {from: team/orchestrator/old, to: team/orchestrator/new}\n",
     "stackctl.yaml:4:12: error: moved: two moves to team/orchestrator/new (also at "),
    ("  - {from: team/orchestrator/old, to: team/orchestrator/mid}\n"
     "  - {from: team/orchestrator/mid, to: team/orchestrator/new}\n",
     "stackctl.yaml:3:12: error: moved: team/orchestrator/mid is both the target of this move "
     "and the source of another (at "),
    ("  - {from: team/orchestrator/old, to: team/artifact_store/old}\n",
     "stackctl.yaml:3:39: error: moved: team/orchestrator/old → team/artifact_store/old: a move "
     "renames within one profile, keeping the kind (and component type)"),
])
def test_conflicting_moves_are_located_errors(work: Path, moved: str, message: str) -> None:
    _write(work, orch="new", active=", activeStack: main", moved=moved)
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    before = snapshot(config)
    for argv in (["plan"], ["apply", "-y"]):
        result = run_process([STACKCTL, *argv], cwd=work)
        assert result.rc == 1
        assert message in result.stderr, result.stderr
    assert snapshot(config) == before  # nothing changed


def test_saved_plan_round_trip(work: Path, tmp_path: Path) -> None:
    uuid = _uuid("old")
    _write(work, orch="new", active=", activeStack: main",
           moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n")
    out = tmp_path / "plan.json"
    assert run_process([STACKCTL, "plan", "-o", str(out)], cwd=work).rc == 0
    shown = run_process([STACKCTL, "show", str(out)], cwd=work)
    assert shown.rc == 0, shown.stderr
    assert "~ rename team/orchestrator/old → new\n" in shown.stdout
    applied = run_process([STACKCTL, "apply", str(out), "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    assert _uuid("new") == uuid
    assert Workspace().state("team").stacks["main"].components[ComponentType.ORCHESTRATOR] == "new"


def test_component_rename_in_a_sql_store(tmp_path: Path) -> None:
    """The SQL store commits the rename (old row out, new row in, same uuid) in one commit."""
    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)
    store = f"{{type: sql, url: 'sqlite:///{tmp_path / 'team.db'}'}}"
    _write(work, store=store)
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    uuid = _uuid("old")
    _write(work, orch="new", store=store,
           moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n")
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    assert _uuid("new") == uuid
    assert Workspace().state("team").stacks["main"].components[ComponentType.ORCHESTRATOR] == "new"
    assert "No changes." in run_process([STACKCTL, "plan"], cwd=work).stdout


def test_target_of_the_new_name_brings_its_rename(work: Path) -> None:
    _write(work, orch="new", active=", activeStack: main",
           moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n")
    planned = run_process([STACKCTL, "plan", "--target", "team/orchestrator/new"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert "~ rename team/orchestrator/old → new\n" in planned.stdout


def test_another_projects_object_is_not_renamed(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)
    _write(work)
    (work / "stackctl.yaml").write_text("name: alpha\nmanifests: [m]\n")
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    _write(work, orch="new",
           moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n")
    (work / "stackctl.yaml").write_text("name: beta\n" + (work / "stackctl.yaml").read_text())
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    before = snapshot(config)
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 1
    assert ("team/orchestrator/old: managed by project 'alpha'; this project cannot change "
            "it") in planned.stderr
    assert snapshot(config) == before
    assert _uuid("old")


def test_saved_rename_refused_when_its_source_changed(work: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    _write(work, orch="new", active=", activeStack: main",
           moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n")
    out = tmp_path / "plan.json"
    assert run_process([STACKCTL, "plan", "-o", str(out)], cwd=work).rc == 0
    with Workspace().store("team").transaction() as tx:  # someone edits it meanwhile
        comp = tx.components[(ComponentType.ORCHESTRATOR, "old")]
        tx.put_component(replace(comp, config={"synchronous": True}))
    applied = run_process([STACKCTL, "apply", str(out), "-y"], cwd=work)
    assert applied.rc == 1
    assert "team/orchestrator/old: changed since the plan was made" in applied.stderr
    assert _uuid("old")
    assert Workspace().state("team").component(ComponentType.ORCHESTRATOR, "new") is None


def test_move_of_an_object_deleted_out_of_band_moves_its_record(work: Path) -> None:
    """Only in the bookkeeping (deleted outside stackctl): the record follows, the target is
    created, and the old name's deletion is reported once, not forever."""
    with Workspace().store("team").transaction() as tx:  # someone deletes it by hand
        tx.delete_stack("main")
    _write(work, stack="prod", active=", activeStack: prod",
           moved="  - {from: team/stack/main, to: team/stack/prod}\n")
    check_record_only_move(work, "team/stack/main", "team/stack/prod",
                           lambda: Workspace().store("team").bookkeeping().managed)


def test_bookkeeping_only_move_without_a_declared_target_is_a_note(work: Path) -> None:
    """The record does not move onto a name the manifests do not create."""
    with Workspace().store("team").transaction() as tx:
        tx.delete_stack("main")
    _write(work, active=", activeStack: default",
           moved="  - {from: team/stack/main, to: team/stack/elsewhere}\n")
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert ("moved: team/stack/main exists only in stackctl's bookkeeping, not live; nothing "
            "to rename") in planned.stdout
    assert "~ rename" not in planned.stdout


def test_move_notes_have_their_own_section(work: Path) -> None:
    _write(work, orch="new", active=", activeStack: main",
           moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n"
                 "  - {from: team/orchestrator/ghost, to: team/orchestrator/spirit}\n")
    text = run_process([STACKCTL, "plan"], cwd=work)
    assert text.rc == 0, text.stderr
    assert "~ rename team/orchestrator/old → new\n" in text.stdout
    assert "      stacks following it: stack 'main' (globally active)\n" in text.stdout
    assert "\nRenames (moved:):\n  note: " in text.stdout
    markdown = run_process([STACKCTL, "plan", "--format", "markdown"], cwd=work)
    assert markdown.rc == 0, markdown.stderr
    out = markdown.stdout
    assert "📝 audit" not in out
    assert "#### Policy" not in out
    assert "#### Renames (`moved:`)\n\n- ↪️ note `" in out
    assert "moved: team/orchestrator/ghost exists neither live" in out
    assert "| create | update | delete | rename | unchanged |" in out
    assert '["~ rename team/orchestrator/old → new"]:::rename' in out
    assert "classDef rename " in out


def _repository(root: Path, profile: str, stack: str) -> None:
    from stackctl.config import repository as repo_config

    (root / repo_config.REPOSITORY_DIR).mkdir(parents=True)
    repo_config.write(repo_config.RepositorySettings(root, profile, stack))


def _repo_stack(root: Path) -> str | None:
    from stackctl.config import repository as repo_config

    return repo_config.read(root).active_stack_name


def test_repository_whose_active_stack_is_renamed_follows(work: Path, tmp_path: Path) -> None:
    here, other = tmp_path / "here", tmp_path / "other"
    _repository(here, "team", "main")
    _repository(other, "team", "default")  # another stack active: left alone
    env = {"STACKCTL_REPOSITORY_PATH": str(here)}
    _write(work, stack="prod", moved="  - {from: team/stack/main, to: team/stack/prod}\n")
    planned = run_process([STACKCTL, "plan"], cwd=work, env=env)
    assert planned.rc == 0, planned.stderr
    assert "~ rename team/stack/main → prod\n" in planned.stdout
    assert (f"~ update repository/{here}\n      active_stack: main → prod\n"
            "      used by: follows the rename of team/stack/main\n") in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work, env=env)
    assert applied.rc == 0, applied.stderr
    assert _repo_stack(here) == "prod"
    assert _repo_stack(other) == "default"
    # followed, not taken over: stackctl does not start managing the repository
    assert f"repository/{here}" not in Workspace().globals.bookkeeping().managed
    again = run_process([STACKCTL, "plan"], cwd=work, env=env)
    assert "No changes." in again.stdout, again.stdout
    assert f"repository/{here}" not in again.stdout  # not listed as unmanaged either


def test_crash_after_the_store_commit_is_repaired_by_the_next_apply(
        work: Path, tmp_path: Path) -> None:
    """Killed after the profile store's commit (stack renamed) and before the repository and
    the global config: the active stack names a stack that no longer exists; the next plan
    sees the rename done and points the profile and the repository at the new name."""
    import sys

    launcher = str(Path(__file__).with_name("crash_launcher.py"))
    here = tmp_path / "here"
    _repository(here, "team", "main")
    env = {"STACKCTL_REPOSITORY_PATH": str(here)}
    _write(work, stack="prod", moved="  - {from: team/stack/main, to: team/stack/prod}\n")
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    before = snapshot(config)
    steps = tmp_path / "steps"
    # record the apply's write steps on a copy of the state, then crash at the right one
    import shutil
    shutil.copytree(config, tmp_path / "config-copy")
    shutil.copytree(here, tmp_path / "here-copy")
    rec = run_process([sys.executable, launcher, "0", str(steps), "apply", "-y"], cwd=work,
                      env=env)
    assert rec.rc == 0, rec.stderr
    names = steps.read_text().splitlines()
    # 1-based: the step after the store's commit is done (its journal cleared), i.e. just
    # before the repository's config is written; the global config's commit follows
    kill_at = names.index("clear journal") + 2
    assert names[kill_at - 1] == "rename config.yaml"
    assert "global.json" in " ".join(names[kill_at:])
    shutil.rmtree(config)
    shutil.rmtree(here)
    shutil.copytree(tmp_path / "config-copy", config)
    shutil.copytree(tmp_path / "here-copy", here)
    assert snapshot(config) == before
    crashed = run_process([sys.executable, launcher, str(kill_at), "", "apply", "-y"],
                          cwd=work, env=env)
    assert crashed.rc != 0
    ws = Workspace()
    assert set(ws.state("team").stacks) == {"default", "prod"}
    profile = ws.config().profile("team")
    assert profile is not None
    assert profile.active_stack == "main"
    planned = run_process([STACKCTL, "plan"], cwd=work, env=env)
    assert planned.rc == 0, planned.stderr
    assert "(team/stack/prod does: already renamed)" in planned.stdout
    assert "~ update profile/team\n      active_stack: main → prod\n" in planned.stdout
    assert f"~ update repository/{here}\n      active_stack: main → prod\n" in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work, env=env)
    assert applied.rc == 0, applied.stderr
    profile = Workspace().config().profile("team")
    assert profile is not None
    assert profile.active_stack == "prod"
    assert _repo_stack(here) == "prod"
    assert "No changes." in run_process([STACKCTL, "plan"], cwd=work, env=env).stdout


CREW = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: crew}}
spec: {{store: {store}, activeStack: main}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: {orch}, profile: crew}}
spec: {{type: orchestrator, flavor: local}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: main, profile: crew}}
spec: {{components: {{orchestrator: {orch}, artifact_store: default, metadata_store: default}}}}
"""

PROFILE_MOVE = "  - {from: profile/team, to: profile/crew}\n"


def _write_crew(work: Path, moved: str, *, orch: str = "old",
                store: str = "{type: local}") -> None:
    (work / "m" / "all.yaml").write_text(CREW.format(orch=orch, store=store))
    (work / "stackctl.yaml").write_text(f"manifests: [m]\nmoved:\n{moved}")


def _books(profile: str) -> set[str]:
    return set(Workspace().store(profile).bookkeeping().managed)


def test_profile_rename_moves_its_local_store(work: Path, tmp_path: Path) -> None:
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    uuid = _uuid("old")
    here = tmp_path / "here"
    _repository(here, "team", "main")
    env = {"STACKCTL_REPOSITORY_PATH": str(here)}
    assert run_process([STACKCTL, "profile", "set", "team"], cwd=tmp_path).rc == 0
    assert Workspace().config().activated_profile == "team"
    _write_crew(work, PROFILE_MOVE)
    planned = run_process([STACKCTL, "plan"], cwd=work, env=env)
    assert planned.rc == 0, planned.stderr
    assert (f"~ rename profile/team → crew\n      store_url: file://{config}/profiles/team → "
            f"file://{config}/profiles/crew\n") in planned.stdout
    assert (f"~ update repository/{here}\n      active_profile: team → crew\n"
            "      used by: follows the rename of profile/team\n") in planned.stdout
    assert "Plan: 0 to create, 1 to update, 0 to delete. 1 to rename." in planned.stdout
    assert "Drift" not in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work, env=env)
    assert applied.rc == 0, applied.stderr
    assert "Renamed profile/team" in applied.stderr + applied.stdout
    ws = Workspace()
    cfg = ws.config()
    assert set(cfg.profiles) == {"crew"}
    assert cfg.activated_profile == "crew"
    crew = cfg.profile("crew")
    assert crew is not None
    assert crew.store_url == f"file://{config}/profiles/crew"
    assert crew.active_stack == "main"
    assert not (config / "profiles" / "team").exists()
    assert (config / "profiles" / "crew" / "stacks.yaml").is_file()
    comp = ws.state("crew").component(ComponentType.ORCHESTRATOR, "old")
    assert comp is not None
    assert comp.uuid == uuid
    assert _books("crew") == {"crew/orchestrator/old", "crew/stack/main"}
    gbooks = ws.globals.bookkeeping().managed
    assert "profile/crew" in gbooks
    assert "profile/team" not in gbooks
    assert _repo_stack(here) == "main"
    from stackctl.config import repository as repo_config

    assert repo_config.read(here).active_profile_name == "crew"
    again = run_process([STACKCTL, "plan"], cwd=work, env=env)
    assert again.rc == 0, again.stderr
    assert "No changes." in again.stdout
    assert "(profile/crew does: already renamed)" in again.stdout
    assert "Drift" not in again.stdout


def test_profile_rename_with_a_move_inside_it(work: Path) -> None:
    """A move inside a renamed profile names it by its new name; both apply together."""
    uuid = _uuid("old")
    _write_crew(work, PROFILE_MOVE + "  - {from: crew/orchestrator/old, to: crew/orchestrator/"
                                     "new}\n", orch="new")
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert planned.stdout.startswith("~ rename profile/team → crew\n")  # the profile's first
    assert "~ rename crew/orchestrator/old → new\n" in planned.stdout
    assert "2 to rename." in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    comp = Workspace().state("crew").component(ComponentType.ORCHESTRATOR, "new")
    assert comp is not None
    assert comp.uuid == uuid
    assert Workspace().state("crew").stacks["main"].components[ComponentType.ORCHESTRATOR] == "new"
    assert _books("crew") == {"crew/orchestrator/new", "crew/stack/main"}
    assert "No changes." in run_process([STACKCTL, "plan"], cwd=work).stdout


@pytest.mark.parametrize(("moved", "message"), [
    (PROFILE_MOVE + "  - {from: team/orchestrator/old, to: team/orchestrator/new}\n",
     "stackctl.yaml:4:12: error: moved: team/orchestrator/old is in profile 'team', which is "
     "renamed to 'crew' (at "),
    ("  - {from: profile/team, to: crew/stack/main}\n",
     "stackctl.yaml:3:30: error: moved: profile/team → crew/stack/main: a profile is renamed "
     "to a profile"),
    (PROFILE_MOVE + "  - {from: profile/crew, to: profile/band}\n",
     "stackctl.yaml:3:12: error: moved: profile/crew is both the target of this move and the "
     "source of another (at "),
])
def test_conflicting_profile_moves_are_located_errors(work: Path, moved: str,
                                                      message: str) -> None:
    _write_crew(work, moved, orch="new")
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    before = snapshot(config)
    for argv in (["validate"], ["plan"], ["apply", "-y"]):
        result = run_process([STACKCTL, *argv], cwd=work)
        assert result.rc == 1
        assert message in result.stdout + result.stderr, result.stderr
    assert snapshot(config) == before


def test_profile_rename_onto_an_existing_profile_is_refused(work: Path) -> None:
    assert run_process([STACKCTL, "profile", "create", "crew"], cwd=work).rc == 0
    _write_crew(work, PROFILE_MOVE)
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    before = snapshot(config)
    planned = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert planned.rc == 1
    assert ("stackctl.yaml:3:12: moved: profile/team → profile/crew: both exist live; delete "
            "one or drop the move") in planned.stderr
    assert snapshot(config) == before


@pytest.mark.parametrize("backend", ["sqlite", "sqlite-default-path", "postgresql"])
def test_profile_rename_of_a_sql_store_keeps_the_database(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    """Only the name in the global config changes (and stackctl's records in the store).
    A SQLite database at the default path moves (tests/test_moved_stores.py), unless the
    renamed profile is declared with the old path: then it stays there."""
    work = tmp_path / "work"
    (work / "m").mkdir(parents=True)
    default = Path(os.environ["STACKCTL_CONFIG_PATH"]) / "profiles" / "team" / "stackctl.db"
    url = {"sqlite": f"sqlite:///{tmp_path / 'team.db'}", "sqlite-default-path":
           f"sqlite:///{default}"}.get(backend) or request.getfixturevalue("postgresql_url")
    store = f"{{type: sql, url: '{url}'}}"
    _write(work, store=store)
    assert run_process([STACKCTL, "apply", "-y"], cwd=work).rc == 0
    uuid = _uuid("old")
    _write_crew(work, PROFILE_MOVE, store=store)
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr
    assert "~ rename profile/team → crew\n" in planned.stdout
    assert "store_url" not in planned.stdout
    applied = run_process([STACKCTL, "apply", "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    crew = Workspace().config().profile("crew")
    assert crew is not None
    assert crew.store_url == url
    assert Workspace().config().profile("team") is None
    comp = Workspace().state("crew").component(ComponentType.ORCHESTRATOR, "old")
    assert comp is not None
    assert comp.uuid == uuid
    assert _books("crew") == {"crew/orchestrator/old", "crew/stack/main"}
    assert "No changes." in run_process([STACKCTL, "plan"], cwd=work).stdout


def test_profile_rename_survives_a_crash_at_every_write_step(work: Path, tmp_path: Path) -> None:
    """SIGKILLed at each write step of the rename's apply: the state left is the old
    profile (its store maybe already holding the new records) or the renamed one, never a
    profile without its store; the next apply finishes the rename."""
    import shutil
    import sys

    launcher = str(Path(__file__).with_name("crash_launcher.py"))
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    uuid = _uuid("old")
    here = tmp_path / "here"
    _repository(here, "team", "main")
    env = {"STACKCTL_REPOSITORY_PATH": str(here)}
    _write_crew(work, PROFILE_MOVE)
    saved = tmp_path / "saved"
    shutil.copytree(config, saved / "config")
    shutil.copytree(here, saved / "here")

    def restore() -> None:
        for live, copy in ((config, saved / "config"), (here, saved / "here")):
            shutil.rmtree(live)
            shutil.copytree(copy, live)

    steps = tmp_path / "steps"
    clean = run_process([sys.executable, launcher, "0", str(steps), "apply", "-y"], cwd=work,
                        env=env)
    assert clean.rc == 0, clean.stderr
    names = steps.read_text().splitlines()
    assert "move team" in names  # the store directory moves inside the global commit
    for kill_at in range(1, len(names) + 1):
        restore()
        killed_log = tmp_path / f"killed-{kill_at}"
        crashed = run_process([sys.executable, launcher, str(kill_at), str(killed_log),
                               "apply", "-y"], cwd=work, env=env)
        # the same steps as the recorded run, up to the kill (else kill_at means another step)
        assert killed_log.read_text().splitlines() == names[:kill_at], names[kill_at - 1]
        assert crashed.rc != 0, names[kill_at - 1]
        cfg = Workspace().config()  # recovers an interrupted global commit first
        name = "crew" if "crew" in cfg.profiles else "team"
        assert set(cfg.profiles) == {name}, names[kill_at - 1]
        assert (config / "profiles" / name / "stacks.yaml").is_file(), names[kill_at - 1]
        assert not (config / "profiles" / ({"crew", "team"} - {name}).pop()).exists()
        planned = run_process([STACKCTL, "plan"], cwd=work, env=env)
        assert planned.rc == 0, (names[kill_at - 1], planned.stderr)
        assert ("~ rename profile/team → crew" in planned.stdout) == (name == "team")
        applied = run_process([STACKCTL, "apply", "-y"], cwd=work, env=env)
        assert applied.rc == 0, (names[kill_at - 1], applied.stderr)
        comp = Workspace().state("crew").component(ComponentType.ORCHESTRATOR, "old")
        assert comp is not None
        assert comp.uuid == uuid
        assert _books("crew") == {"crew/orchestrator/old", "crew/stack/main"}
        from stackctl.config import repository as repo_config

        assert repo_config.read(here).active_profile_name == "crew"
        again = run_process([STACKCTL, "plan"], cwd=work, env=env)
        assert "No changes." in again.stdout, (names[kill_at - 1], again.stdout)


def test_target_of_the_renamed_profile_brings_its_rename_and_followers(
        work: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    _repository(here, "team", "main")
    env = {"STACKCTL_REPOSITORY_PATH": str(here)}
    _write_crew(work, PROFILE_MOVE + "  - {from: crew/stack/main, to: crew/stack/prod}\n")
    text = (work / "m" / "all.yaml").read_text().replace("name: main,", "name: prod,")
    (work / "m" / "all.yaml").write_text(text.replace("activeStack: main", "activeStack: prod"))
    for target in ("crew/stack/prod", "profile/crew"):
        planned = run_process([STACKCTL, "plan", "--target", target], cwd=work, env=env)
        assert planned.rc == 0, planned.stderr
        assert "~ rename profile/team → crew\n" in planned.stdout
        assert (f"~ update repository/{here}\n      active_profile: team → crew\n"
                in planned.stdout)
    planned = run_process([STACKCTL, "plan", "--target", "crew/stack/prod"], cwd=work, env=env)
    assert "~ rename crew/stack/main → prod\n" in planned.stdout
    assert "active_stack: main → prod" in planned.stdout
    excluded = run_process([STACKCTL, "plan", "--target", "crew/stack/prod", "--exclude",
                            "profile/team"], cwd=work, env=env)
    assert excluded.rc == 1
    assert "needs profile/team, which --exclude leaves out" in excluded.stderr
    applied = run_process([STACKCTL, "apply", "-y", "--target", "crew/stack/prod"], cwd=work,
                          env=env)
    assert applied.rc == 0, applied.stderr
    from stackctl.config import repository as repo_config

    assert repo_config.read(here) == repo_config.RepositorySettings(here, "crew", "prod")
    profile = Workspace().config().profile("crew")
    assert profile is not None
    assert profile.active_stack == "prod"


def test_graph_of_the_manifests_shows_old_names(work: Path) -> None:
    import json

    _write_crew(work, PROFILE_MOVE + "  - {from: crew/orchestrator/old, to: crew/orchestrator/"
                                     "new}\n", orch="new")
    mermaid = run_process([STACKCTL, "graph", "m"], cwd=work)
    assert mermaid.rc == 0, mermaid.stderr
    assert '["profile crew (was team)"]' in mermaid.stdout
    assert '["orchestrator: new (local) (was old)"]' in mermaid.stdout
    assert '["stack main ★ active"]' in mermaid.stdout  # not renamed: no "was"
    dot = run_process([STACKCTL, "graph", "m", "--format", "dot"], cwd=work)
    assert 'label="profile crew (was team)"' in dot.stdout
    data = json.loads(run_process([STACKCTL, "graph", "m", "--format", "json"],
                                  cwd=work).stdout)
    (crew,) = data["profiles"]
    assert crew["was"] == "team"
    assert {"type": "orchestrator", "name": "new", "flavor": "local",
            "was": "old"} in crew["components"]
    assert "was" not in crew["stacks"][0]


def test_saved_profile_rename_round_trip(work: Path, tmp_path: Path) -> None:
    uuid = _uuid("old")
    _write_crew(work, PROFILE_MOVE)
    out = tmp_path / "plan.json"
    assert run_process([STACKCTL, "plan", "-o", str(out)], cwd=work).rc == 0
    shown = run_process([STACKCTL, "show", str(out)], cwd=work)
    assert "~ rename profile/team → crew\n" in shown.stdout
    applied = run_process([STACKCTL, "apply", str(out), "-y"], cwd=work)
    assert applied.rc == 0, applied.stderr
    comp = Workspace().state("crew").component(ComponentType.ORCHESTRATOR, "old")
    assert comp is not None
    assert comp.uuid == uuid
    again = run_process([STACKCTL, "apply", str(out), "-y"], cwd=work)
    assert again.rc == 1
    assert "has already been applied" in again.stderr


def test_saved_profile_rename_refused_when_the_profile_changed(work: Path, tmp_path: Path) -> None:
    _write_crew(work, PROFILE_MOVE)
    out = tmp_path / "plan.json"
    assert run_process([STACKCTL, "plan", "-o", str(out)], cwd=work).rc == 0
    assert run_process([STACKCTL, "stack", "set", "default"], cwd=work,
                       env={"STACKCTL_REPOSITORY_PATH": ""}).rc == 0  # meanwhile, by hand
    config = Path(os.environ["STACKCTL_CONFIG_PATH"])
    before = snapshot(config)
    applied = run_process([STACKCTL, "apply", str(out), "-y"], cwd=work)
    assert applied.rc == 1
    assert "profile/team: changed since the plan was made" in applied.stderr
    assert snapshot(config) == before


SAME_FLAVOR = """\
apiVersion: stackctl/v1
kind: Policy
metadata: {name: same-flavor}
spec:
  rules:
    - expression: oldObject == null || oldObject.spec.flavor == object.spec.flavor
      message: an orchestrator keeps its flavor
      match: {types: [orchestrator]}
"""


@pytest.mark.parametrize("rename", ["profile", "component"])
def test_policies_see_a_renamed_object_as_its_live_self(work: Path, rename: str) -> None:
    """``oldObject`` follows ``moved:``: the live object of a renamed profile's component,
    or of a renamed component, under the name the manifests give it."""
    (work / "m" / "policy.yaml").write_text(SAME_FLAVOR)
    if rename == "profile":
        _write_crew(work, PROFILE_MOVE)
    else:
        _write(work, orch="new", active=", activeStack: main",
               moved="  - {from: team/orchestrator/old, to: team/orchestrator/new}\n")
    manifests = work / "m" / "all.yaml"
    planned = run_process([STACKCTL, "plan"], cwd=work)
    assert planned.rc == 0, planned.stderr  # the same flavor: the rule holds
    manifests.write_text(manifests.read_text().replace("flavor: local", "flavor: airflow"))
    refused = run_process([STACKCTL, "plan"], cwd=work)
    assert refused.rc == 1, refused.stdout
    assert "an orchestrator keeps its flavor [policy/same-flavor]" in refused.stderr
