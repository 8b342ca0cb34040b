"""Field-level drift: `drift` and `plan` name the fields changed outside stackctl.

stackctl keeps a redacted last-applied record per managed resource (plan/records.py)
in every backend's bookkeeping; `drift` and `plan` compare it with live (old → new)
and `plan` says, per field, whether applying reverts or overwrites that change: a
three-way comparison of last applied, manifests and live. Secrets are never stored
or shown: a record holds only a salted HMAC of them. Bookkeeping written before
records existed (or a SQL store at schema 0002) still works and says "changed".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import Cli

from stackctl.plan import records
from stackctl.plan.model import FieldChange

PASSWORD = "first-pa55word-4471"
NEW_PASSWORD = "second-pa55word-9034"
SECRETS = (PASSWORD, NEW_PASSWORD)
BACKENDS = ["local", "sqlite", pytest.param("postgresql", marks=pytest.mark.db),
            pytest.param("mariadb", marks=pytest.mark.db)]

DB, ART = "team/metadata_store/db", "team/artifact_store/art"


@pytest.fixture
def secrets() -> dict[str, str]:
    # NEW_PASSWORD is set by the tests that change it; listed here so it is never printed
    return {"DB_PASSWORD": PASSWORD, "STACKCTL_TEST_NEW_PASSWORD": NEW_PASSWORD}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_spec(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
               monkeypatch: pytest.MonkeyPatch) -> str:
    if backend == "local":
        return "{type: local}"
    if backend == "sqlite":
        return f"{{type: sql, url: 'sqlite:///{tmp_path / 'team.db'}'}}"
    monkeypatch.setenv("DRIFT_DB_URL", str(request.getfixturevalue(f"{backend}_url")))
    return "{type: sql, urlFromEnv: DRIFT_DB_URL}"


def _manifests(tmp_path: Path, store: str, path: str = "/srv/art/v1") -> Path:
    root = tmp_path / "manifests"
    root.mkdir(exist_ok=True)
    (root / "team.yaml.j2").write_text(f"""\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: team}}
spec: {{store: {store}, activeStack: prod}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: art, profile: team}}
spec: {{type: artifact_store, flavor: local, config: {{path: {path}}}}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: db, profile: team}}
spec:
  type: metadata_store
  flavor: mysql
  config: {{host: db.internal, database: ml, username: ml,
           password: "{{{{ env.DB_PASSWORD }}}}"}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: prod, profile: team}}
spec: {{components: {{orchestrator: default, artifact_store: art, metadata_store: db}}}}
---
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {{name: global}}
spec: {{activeProfile: team}}
""")
    return root


@pytest.fixture
def applied(cli: Cli, tmp_path: Path, store_spec: str) -> Path:
    manifests = _manifests(tmp_path, store_spec)
    result = cli("apply", "-y", str(manifests))
    assert result.rc == 0, result
    return manifests


def _edit_out_of_band(cli: Cli) -> None:
    assert cli("artifact-store", "update", "art", "--path=/srv/art/by-hand").rc == 0
    assert cli("metadata-store", "update", "db", "--host=db2.internal",
               f"--password={NEW_PASSWORD}").rc == 0


def _drift_json(cli: Cli, manifests: Path) -> list[dict[str, object]]:
    result = cli("drift", "--format", "json", str(manifests))
    assert result.rc == 2, result
    return list(json.loads(result.out)["drift"])


def _books_text() -> str:
    """Every backend's bookkeeping of profile 'team', as one text (to look for secrets)."""
    from stackctl.workspace import Workspace

    books = Workspace().store("team").bookkeeping()
    return json.dumps({"managed": dict(books.managed), "applied": dict(books.applied)})


def test_drift_names_each_changed_field_old_to_new(cli: Cli, applied: Path) -> None:
    assert cli("drift", str(applied)).rc == 0
    _edit_out_of_band(cli)
    assert _drift_json(cli, applied) == [
        {"address": ART, "detail": "changed", "fields": [
            {"path": "config.path", "old": "/srv/art/v1", "new": "/srv/art/by-hand"}]},
        {"address": DB, "detail": "changed", "fields": [
            {"path": "config.host", "old": "db.internal", "new": "db2.internal"},
            {"path": "config.password", "old": "(sensitive)", "new": "(sensitive, changed)"}]}]
    text = cli("drift", str(applied))
    assert (text.rc, text.out) == (2, (
        f"! {ART}: changed\n"
        "      config.path: /srv/art/v1 → /srv/art/by-hand\n"
        f"! {DB}: changed\n"
        "      config.host: db.internal → db2.internal\n"
        "      config.password: (sensitive) → (sensitive, changed)\n"))
    # the record keeps the secret only sealed: no backend stores it in clear
    kept = _books_text()
    assert PASSWORD not in kept
    assert records.SEALED_PREFIX in kept
    # applying puts live back and records it: no drift left
    assert cli("apply", "-y", str(applied)).rc == 0
    assert cli("drift", str(applied)).rc == 0


def test_plan_says_whether_applying_reverts_or_overwrites_a_drifted_field(
        cli: Cli, applied: Path, tmp_path: Path, store_spec: str) -> None:
    _edit_out_of_band(cli)
    _manifests(tmp_path, store_spec, path="/srv/art/v2")  # the manifests move on too
    plan = cli("plan", str(applied))
    assert plan.rc == 0, plan
    lines = plan.out.splitlines()
    at = lines.index(f"~ update {ART}")
    assert lines[at + 1] == ("      config.path: /srv/art/by-hand → /srv/art/v2  "
                             "(overwrites a change made outside stackctl)")
    at = lines.index(f"~ update {DB}")
    assert lines[at + 1:at + 3] == [
        "      config.host: db2.internal → db.internal  (reverts a change made outside "
        "stackctl)",
        "      config.password: (sensitive) → (sensitive)  (also changed outside stackctl)"]
    at = lines.index("Drift (live changed outside stackctl since its last apply):")
    assert lines[at + 1:at + 3] == [f"  ! {ART}: changed",
                                    "        config.path: /srv/art/v1 → /srv/art/by-hand"]


def test_a_field_changed_back_by_hand_is_no_drift(cli: Cli, applied: Path) -> None:
    assert cli("artifact-store", "update", "art", "--path=/srv/art/by-hand").rc == 0
    assert cli("artifact-store", "update", "art", "--path=/srv/art/v1").rc == 0
    result = cli("drift", str(applied))
    assert (result.rc, result.out) == (0, "")


def _drop_records(backend: str) -> None:
    """Make the bookkeeping look as stackctl wrote it before last-applied records."""
    from stackctl.workspace import Workspace

    store = Workspace().store("team")
    if backend == "local":
        state = Path(os.environ["STACKCTL_CONFIG_PATH"]) / "profiles" / "team" / ".stackctl" \
            / "state.json"
        data = json.loads(state.read_text())
        del data["applied"]
        state.write_text(json.dumps(data))
        return
    # a store at schema 0002 has no record column; the next command upgrades it
    from alembic import command

    from stackctl.stores import sql_schema
    from stackctl.stores.sql import SqlStore

    assert isinstance(store, SqlStore)
    with store.engine.begin() as conn:
        command.downgrade(sql_schema.alembic_config(conn), "0002")
    assert store.revision() == "0002"


def test_bookkeeping_without_records_still_says_changed(cli: Cli, applied: Path,
                                                        backend: str) -> None:
    _drop_records(backend)
    _edit_out_of_band(cli)
    assert _drift_json(cli, applied) == [{"address": ART, "detail": "changed", "fields": []},
                                         {"address": DB, "detail": "changed", "fields": []}]
    assert "Drift (live changed outside stackctl since its last apply):\n" \
           f"  ! {ART}: changed\n  ! {DB}: changed\n" in cli("plan", str(applied)).out
    # the next apply records them: drift is named field by field again
    assert cli("apply", "-y", str(applied)).rc == 0
    assert cli("artifact-store", "update", "art", "--path=/srv/art/later").rc == 0
    assert _drift_json(cli, applied) == [{"address": ART, "detail": "changed", "fields": [
        {"path": "config.path", "old": "/srv/art/v1", "new": "/srv/art/later"}]}]


def test_damaged_records_are_a_clean_error_and_change_nothing(cli: Cli, tmp_path: Path) -> None:
    manifests = _manifests(tmp_path, "{type: local}")
    assert cli("apply", "-y", str(manifests)).rc == 0
    state = Path(os.environ["STACKCTL_CONFIG_PATH"]) / "profiles" / "team" / ".stackctl" \
        / "state.json"
    data = json.loads(state.read_text())
    data["applied"] = {ART: 5}
    state.write_text(json.dumps(data))
    before = state.read_text()
    result = cli("plan", str(manifests))
    assert (result.rc, result.err.splitlines()[0]) == (
        1, f"Error: {state}: stackctl's bookkeeping is damaged: 'applied' is not an object "
           "of last-applied records.")
    assert "Traceback" not in result.err
    assert state.read_text() == before


# -- the record itself ------------------------------------------------------------------------

HIDDEN = frozenset({("config", "password")})


def test_a_record_seals_secrets_under_its_own_salt() -> None:
    view = {"flavor": "mysql", "config": {"host": "h", "password": PASSWORD, "secret": None}}
    one, two = records.record_of(view, HIDDEN), records.record_of(view, HIDDEN)
    assert one is not None
    assert two is not None
    assert PASSWORD not in json.dumps(one)
    assert one["view"]["config"]["host"] == "h"
    assert one["view"]["config"]["secret"] is None  # an unset secret is no secret
    sealed = one["view"]["config"]["password"]
    assert sealed.startswith(records.SEALED_PREFIX)
    assert sealed != two["view"]["config"]["password"]  # same secret, other salt
    assert records.drift_fields(one, view, HIDDEN) == ()
    assert records.drift_fields(one, {**view, "config": {**view["config"], "password": "x"}},
                                HIDDEN) == (
        FieldChange("config.password", "(sensitive)", "(sensitive, changed)"),)


def test_a_record_keeps_urls_redacted() -> None:
    view = {"store_type": "sql", "store_url": "postgresql://u:pw-9981@db/x",
            "active_stack": "s"}
    record = records.record_of(view)
    assert record is not None
    assert "pw-9981" not in json.dumps(record)


@pytest.mark.parametrize("record", [None, {}, {"salt": 1, "view": {}}, {"salt": "s"}])
def test_no_usable_record_names_no_field(record: dict[str, object] | None) -> None:
    assert records.drift_fields(record, {"config": {"path": "/x"}}) == ()


def test_drift_of_a_profile_setting_is_named_from_the_global_records(
        cli: Cli, tmp_path: Path) -> None:
    manifests = _manifests(tmp_path, "{type: local}")
    assert cli("apply", "-y", str(manifests)).rc == 0
    assert cli("stack", "set", "default").rc == 0  # by hand: the profile's active stack
    assert _drift_json(cli, manifests) == [{"address": "profile/team", "detail": "changed",
                                            "fields": [{"path": "active_stack", "old": "prod",
                                                        "new": "default"}]}]
