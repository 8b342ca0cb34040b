"""Damaged or hostile live state: one clear error naming the file or setting, exit 1,
nothing changed, and never a file touched outside the store being recovered.

Each test runs the installed ``stackctl`` in a subprocess (as an operator would).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Runner
from helpers import PYTHON, run_process, snapshot


@pytest.fixture
def profile_meta(run: Runner, config_dir: Path) -> Path:
    """A local profile ``p`` (and ``default``); its ``.stackctl`` directory."""
    assert run("profile", "create", "p").rc == 0
    assert run("profile", "set", "p").rc == 0
    meta = config_dir / "profiles" / "p" / ".stackctl"
    assert meta.is_dir()
    return meta


def _refused(run: Runner, config_dir: Path, args: list[str], message: str,
             env: dict[str, str] | None = None) -> str:
    before = snapshot(config_dir)
    result = run(*args, env=env)
    assert result.rc == 1, result
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert snapshot(config_dir) == before
    return result.stderr


# -- the crash journal stays inside its store -----------------------------------------------


def test_a_journal_naming_a_file_outside_the_store_deletes_nothing(
        run: Runner, config_dir: Path, profile_meta: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    journal = profile_meta / "journal.json"
    journal.write_text(json.dumps({"renames": {}, "deletes": [str(victim)], "trash": {}}))
    err = _refused(run, config_dir, ["stack", "list"],
                   f"Error: {journal}: The crash journal names a file outside the store: "
                   f'"{victim}"; nothing was changed.\n  hint: stackctl did not write this '
                   "journal. Inspect it and the store, then remove the journal by hand to "
                   "continue.")
    assert len(err.strip().splitlines()) == 5  # three header lines, the error, its hint
    assert victim.read_text() == "precious"


def test_a_journal_escaping_by_dotdot_or_symlink_is_refused(
        run: Runner, config_dir: Path, profile_meta: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("precious")
    (profile_meta.parent / "link").symlink_to(outside)
    journal = profile_meta / "journal.json"
    for path in (f"{profile_meta.parent}/../../../../{victim.relative_to('/')}",
                 str(profile_meta.parent / "link" / "victim.txt")):
        journal.write_text(json.dumps({"renames": {}, "deletes": [path], "trash": {}}))
        _refused(run, config_dir, ["stack", "list"],
                 "The crash journal names a file outside the store")
        assert victim.read_text() == "precious"


def test_a_journal_renaming_or_trashing_outside_the_store_is_refused(
        run: Runner, config_dir: Path, profile_meta: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("precious")
    evil = tmp_path / ".stackctl-tmp-evil"
    evil.write_text("evil")
    journal = profile_meta / "journal.json"
    journal.write_text(json.dumps({"renames": {str(evil): str(target)}, "deletes": [],
                                   "trash": {}}))
    _refused(run, config_dir, ["stack", "list"],
             "The crash journal names a rename outside the store: ")
    assert target.read_text() == "precious"
    journal.write_text(json.dumps({"renames": {}, "deletes": [], "trash": {
        str(tmp_path): str(tmp_path.with_name(".stackctl-tmp-trash-x"))}}))
    _refused(run, config_dir, ["stack", "list"],
             "The crash journal names a directory stackctl may not remove: ")
    assert target.read_text() == "precious"


def test_a_global_journal_cannot_trash_a_directory_that_is_no_store(
        run: Runner, config_dir: Path, profile_meta: Path, tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "file").write_text("precious")
    journal = config_dir / ".stackctl" / "journal.json"
    journal.write_text(json.dumps({"renames": {}, "deletes": [], "trash": {
        str(keep): str(tmp_path / ".stackctl-tmp-trash-1")}}))
    _refused(run, config_dir, ["stack", "list"],
             f'The crash journal names a directory stackctl may not remove: "{keep}"')
    assert (keep / "file").read_text() == "precious"


def test_a_global_journal_moves_only_a_store_beside_itself_inside_the_config_dir(
        run: Runner, config_dir: Path, profile_meta: Path, tmp_path: Path) -> None:
    """A renamed profile's store moves with the global commit (``moves``): never a
    directory that is no store, nor one outside the config directory."""
    keep = config_dir / "profiles" / "keep"
    keep.mkdir()
    (keep / "file").write_text("precious")
    journal = config_dir / ".stackctl" / "journal.json"
    for source, target in ((keep, config_dir / "profiles" / "elsewhere"),  # no store
                           (profile_meta.parent, tmp_path / "p2"),  # out of the config dir
                           (profile_meta.parent, config_dir / "p2")):  # not beside itself
        journal.write_text(json.dumps({"renames": {}, "deletes": [], "trash": {},
                                       "moves": {str(source): str(target)}}))
        _refused(run, config_dir, ["stack", "list"],
                 f'The crash journal names a directory stackctl may not move: "{source}"')
    journal.write_text(json.dumps({"renames": {}, "deletes": [], "trash": {}, "moves": []}))
    _refused(run, config_dir, ["stack", "list"], "The crash journal is not of the form")
    assert (keep / "file").read_text() == "precious"
    assert (profile_meta / "state.json").is_file()


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "The crash journal is not valid JSON; nothing was changed."),
    ("[]", 'The crash journal is not of the form {"renames": {…}, "deletes": […], '
           '"trash": {…}}; nothing was changed.'),
    ('{"renames": [], "deletes": [], "trash": {}}', "The crash journal is not of the form"),
    ('{"renames": {}, "deletes": [1], "trash": {}}', "The crash journal is not of the form"),
    ('{"renames": {}, "deletes": []}', "The crash journal is not of the form"),
])
def test_a_journal_that_is_not_json_or_of_the_wrong_shape(
        run: Runner, config_dir: Path, profile_meta: Path, content: str, message: str) -> None:
    journal = profile_meta / "journal.json"
    journal.write_text(content)
    err = _refused(run, config_dir, ["stack", "list"],
                   f"Error: {journal}: {message}")
    assert "hint: stackctl did not write this journal." in err


# -- bookkeeping with wrong types ----------------------------------------------------------


@pytest.mark.parametrize(("edit", "message"), [
    ({"serial": "x"}, "'serial' is not a whole number"),
    ({"serial": True}, "'serial' is not a whole number"),
    ({"lineage": 5}, "'lineage' is not a string"),
    ({"managed": ["a"]}, "'managed' is not an object of fingerprints"),
    ({"flavor_schemas": {"a/b": 1}}, "'flavor_schemas' is not an object of JSON Schemas"),
])
def test_a_store_bookkeeping_file_with_wrong_types(run: Runner, config_dir: Path,
                                                   profile_meta: Path,
                                                   edit: dict[str, object],
                                                   message: str) -> None:
    state = profile_meta / "state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), **edit}))
    _refused(run, config_dir, ["orchestrator", "list"],
             f"Error: {state}: stackctl's bookkeeping is damaged: {message}.")


@pytest.mark.parametrize(("content", "message"), [
    ('{"applied_plans": 5}', "'applied_plans' is not a list of plan ids"),
    ('{"serial": "x"}', "'serial' is not a whole number"),
    ("[1]", "it is not a JSON object"),
])
def test_global_bookkeeping_with_wrong_types(run: Runner, config_dir: Path,
                                             profile_meta: Path, tmp_path: Path,
                                             content: str, message: str) -> None:
    books = config_dir / ".stackctl" / "global.json"
    books.write_text(content)
    (tmp_path / "m.yaml").write_text("apiVersion: stackctl/v1\nkind: Profile\n"
                                     "metadata: {name: p}\nspec: {store: {type: local}}\n")
    _refused(run, config_dir, ["plan", str(tmp_path / "m.yaml")],
             f"Error: {books}: stackctl's bookkeeping is damaged: {message}.")


# -- settings ------------------------------------------------------------------------------


def test_a_non_numeric_lock_timeout_is_one_clean_error_not_an_import_crash(
        run: Runner, config_dir: Path, profile_meta: Path) -> None:
    _refused(run, config_dir, ["orchestrator", "register", "o1", "--flavor", "local"],
             "Error: STACKCTL_LOCK_TIMEOUT must be a number of seconds, not 'soon'.",
             env={"STACKCTL_LOCK_TIMEOUT": "soon"})
    imported = run_process([PYTHON, "-c", "import stackctl.stores.lock"], config_dir,
                           env={"STACKCTL_LOCK_TIMEOUT": "soon"})
    assert imported.rc == 0, imported.stderr
    assert run("version", env={"STACKCTL_LOCK_TIMEOUT": "soon"}).rc == 0


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://u:pw@db.internal:abc/zenml",
     "is not a valid SQLAlchemy URL: postgresql+psycopg://u:***@db.internal:abc/zenml"),
    ("postgresql+psycopg://u:pw@[::1/zenml",
     "is not a valid SQLAlchemy URL: postgresql+psycopg://u:***@[::1/zenml"),
    ("mysql+pymysql://root:se@cret-part@127.0.0.1/zenml",
     "an unescaped '@' in the password, or a bad port): mysql+pymysql://root:***@127.0.0.1"),
    ("postgresql+psycopg://u:pw@db.internal:99999/zenml", "a bad port"),
])
def test_broken_sql_urls_are_one_clean_redacted_error(run: Runner, config_dir: Path,
                                                      profile_meta: Path, url: str,
                                                      shown: str) -> None:
    err = _refused(run, config_dir, ["profile", "create", "s", "-t", "sql", "--url", url], shown)
    for secret in ("pw", "se@cret", "cret-part"):
        assert f":{secret}" not in err
        assert "cret-part" not in err


# -- a first apply without a GlobalConfig --------------------------------------------------


def test_first_apply_without_a_global_config_leaves_an_active_profile(
        run: Runner, config_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("apiVersion: stackctl/v1\nkind: Profile\n"
                                     "metadata: {name: team}\nspec: {store: {type: local}}\n")
    assert run("apply", "-y", str(tmp_path / "m.yaml")).rc == 0
    text = (config_dir / "config.yaml").read_text()
    assert "activated_profile: null" not in text
    assert "activated_profile: team" in text
    listed = run("stack", "list")
    assert listed.rc == 0, listed.stderr
    assert "does not exist" not in listed.stderr
    assert "Running with active profile: 'team' (global)" in listed.stdout + listed.stderr


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://u:pw@host/db", "postgresql+psycopg://u:***@host/db"),
    ("mysql+pymysql://root:se@cret@host:3306/db", "mysql+pymysql://root:***@host:3306/db"),
    ("postgresql://u:p/a?s#s@host/db", "postgresql://u:***@host/db"),
    ("postgresql://u:p@h/db?sslpassword=x&password=y", "postgresql://u:***@h/db?sslpassword=***&password=***"),
    ("postgresql://host/db?user=u&password=secret", "postgresql://host/db?user=u&password=***"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ("postgresql://u@host/db", "postgresql://u@host/db"),
])
def test_every_url_a_user_can_type_is_redacted(url: str, shown: str) -> None:
    from stackctl.stores.urls import redact_url

    assert redact_url(url) == shown


def test_an_optional_file_that_vanishes_before_its_read_is_just_absent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``missing_ok`` is decided by the open itself: a file deleted between a check and
    the read (another writer's commit) is absent, not a "missing" error."""
    from stackctl.errors import ConfigFileError
    from stackctl.stores import yamlio

    monkeypatch.setattr(yamlio.os.path, "exists", lambda _p: True)  # "there" at a check
    assert yamlio.read_mapping(tmp_path / "config.yaml", missing_ok=True) == {}
    with pytest.raises(ConfigFileError, match="is missing"):
        yamlio.read_mapping(tmp_path / "config.yaml")
