"""Saved plan files: tamper-evident, read by one validated loader, applied only as computed.

Every edit a reviewer would not see is refused before anything is written:
plain edits by the file's digest, and edits whose digest was recomputed (the
digest is no signature) by comparing the file's changes with the plan
computed again at apply time, field by field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import Cli, snapshot

from stackctl.plan import saved
from stackctl.workspace import Workspace

MANIFESTS = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {store: {type: local}, activeStack: cloud}
---
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {name: global}
spec: {activeProfile: team}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: s3, profile: team}
spec: {type: artifact_store, flavor: s3, config: {path: s3://ml/data}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: local, profile: team}
spec: {type: orchestrator, flavor: local}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: cloud, profile: team}
spec: {components: {orchestrator: local, artifact_store: s3, metadata_store: default}}
"""


@pytest.fixture
def planfile(cli: Cli, tmp_path: Path) -> Path:
    (tmp_path / "stack.yaml").write_text(MANIFESTS)
    out = tmp_path / "plan.json"
    assert cli("plan", str(tmp_path / "stack.yaml"), "-o", str(out)).rc == 0
    return out


def _edit(planfile: Path, change: Callable[[dict[str, Any]], None], *,
          redigest: bool = True) -> None:
    data = json.loads(planfile.read_text())
    change(data)
    if redigest:  # as an attacker who knows the format would
        data["digest"] = saved.digest_of(data)
    planfile.write_text(json.dumps(data))


def _index(data: dict[str, Any], address: str) -> int:
    return next(i for i, c in enumerate(data["changes"]) if c["address"] == address)


def _refused(cli: Cli, planfile: Path, config_dir: Path, message: str) -> None:
    before = snapshot(config_dir)
    result = cli("apply", str(planfile))
    assert result.rc == 1
    assert message in result.err, result.err
    assert len(result.err.strip().splitlines()) <= 2  # one line, and a hint
    assert snapshot(config_dir) == before


def test_the_file_carries_a_digest_over_its_content(planfile: Path) -> None:
    data = json.loads(planfile.read_text())
    assert data["format_version"] == 2
    assert data["digest"].startswith("sha256:")
    assert data["digest"] == saved.digest_of(data)


def test_any_edit_is_refused_by_the_digest(cli: Cli, planfile: Path, config_dir: Path) -> None:
    _edit(planfile, lambda d: d.update(created_at="2020-01-01"), redigest=False)
    _refused(cli, planfile, config_dir,
             f"Error: {planfile}: The plan file was modified after it was saved (its digest "
             "does not match).")


def test_a_file_without_digest_is_refused(cli: Cli, planfile: Path, config_dir: Path) -> None:
    _edit(planfile, lambda d: d.pop("digest"), redigest=False)
    _refused(cli, planfile, config_dir, f"Error: {planfile}: The plan file has no digest.")


def test_a_deleted_change_is_refused(cli: Cli, planfile: Path, config_dir: Path) -> None:
    # the artifact store the globally active stack uses: applying without it would
    # leave the active stack pointing at a component that does not exist
    _edit(planfile, lambda d: d["changes"].pop(_index(d, "team/artifact_store/s3")))
    _refused(cli, planfile, config_dir,
             "Error: The saved plan's changes differ from the plan computed now: "
             "team/artifact_store/s3: the create change computed now is missing from the "
             "plan file.")
    assert not Workspace().config().profile("team")


def test_a_create_turned_into_a_delete_is_refused(cli: Cli, planfile: Path,
                                                   config_dir: Path) -> None:
    _edit(planfile, lambda d: d["changes"][_index(d, "team/orchestrator/local")].update(
        action="delete"))
    _refused(cli, planfile, config_dir,
             'team/orchestrator/local: action is "delete" in the plan file but "create" now.')


def test_an_edited_after_is_refused(cli: Cli, planfile: Path, config_dir: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["changes"][_index(d, "team/artifact_store/s3")]["after"]["config"]["path"] = "s3://x"
    _edit(planfile, change)
    _refused(cli, planfile, config_dir,
             'team/artifact_store/s3: after.config.path is "s3://x" in the plan file but '
             '"s3://ml/data" now.')


def test_an_added_or_renamed_change_is_refused(cli: Cli, planfile: Path,
                                               config_dir: Path) -> None:
    def add(d: dict[str, Any]) -> None:
        extra = dict(d["changes"][_index(d, "team/artifact_store/s3")],
                     address="team/artifact_store/s9")
        d["changes"].append(extra)
    _edit(planfile, add)
    _refused(cli, planfile, config_dir,
             '"team/artifact_store/s9": the plan file has a "create" change that is not '
             "computed now.")
    _edit(planfile, lambda d: d["changes"][_index(d, "team/artifact_store/s9")].update(
        address="team/x/y"))
    _refused(cli, planfile, config_dir,
             "The plan file is malformed at changes[5]: team/x/y is not the address of a "
             "component.")
    _edit(planfile, lambda d: d["changes"].pop(_index(d, "team/x/y")))
    _edit(planfile, lambda d: d["changes"][_index(d, "team/artifact_store/s3")].update(
        address="team/artifact_store/renamed"))
    _refused(cli, planfile, config_dir,
             '"team/artifact_store/renamed": the plan file has a "create" change that is not '
             "computed now.")


def test_a_flipped_flag_is_refused(cli: Cli, planfile: Path, config_dir: Path) -> None:
    _edit(planfile, lambda d: d["changes"][0].update(adopt=True))
    _refused(cli, planfile, config_dir, ": adopt is true in the plan file but false now.")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(changes={"a": 1}),
     "The plan file is malformed at changes: {'a': 1} is not of type 'array'."),
    (lambda d: d.update(changes=[1]),
     "The plan file is malformed at changes[0]: 1 is not of type 'object'."),
    (lambda d: d.pop("inputs"),
     "The plan file is malformed at top level: 'inputs' is a required property."),
    (lambda d: d["inputs"].update(paths="manifests"),
     "The plan file is malformed at inputs.paths: 'manifests' is not of type 'array'."),
    (lambda d: d["inputs"].pop("variables"),
     "The plan file is malformed at inputs: 'variables' is a required property."),
    (lambda d: d["changes"][0].update(action="explode"),
     "The plan file is malformed at changes[0].action: 'explode' is not one of"),
    (lambda d: d.update(id="../../etc"),
     "The plan file is malformed at id: '../../etc' does not match"),
    (lambda d: d.update(surprise=1),
     "The plan file is malformed at top level: Additional properties are not allowed"),
    (lambda d: d.update(format_version=1), "Unsupported plan format version 1."),
])
def test_malformed_files_end_in_one_clean_error(cli: Cli, planfile: Path, config_dir: Path,
                                                 edit: Callable[[dict[str, Any]], None],
                                                 message: str) -> None:
    _edit(planfile, edit)
    _refused(cli, planfile, config_dir, f"Error: {planfile}: {message}")


@pytest.mark.parametrize(("content", "message"), [
    (b"not json at all", "This is not a stackctl plan file (not JSON)."),
    (b"\xff\xfe\x00", "This is not a stackctl plan file (not JSON)."),
    (b"[1, 2]", "This is not a stackctl plan file (not a JSON object)."),
    (b"[" * 100_000, "This is not a stackctl plan file (not JSON)."),
    (b'{"format_version": 2, "digest": "sha256:0"}',
     "The plan file was modified after it was saved"),
])
def test_files_that_are_not_plans(cli: Cli, planfile: Path, config_dir: Path,
                                  content: bytes, message: str) -> None:
    planfile.write_bytes(content)
    _refused(cli, planfile, config_dir, f"Error: {planfile}: {message}")


def test_an_untouched_plan_applies(cli: Cli, planfile: Path) -> None:
    result = cli("apply", str(planfile))
    assert result.rc == 0, result.err
    # 4 declared, and the new profile's default stack (4 objects)
    assert "Apply complete: 8 created, 1 updated, 0 deleted." in result.err


def test_the_loader_knows_every_field_of_a_plan() -> None:
    import dataclasses

    from stackctl.plan.model import Plan

    fields = {f.name for f in dataclasses.fields(Plan)}
    assert fields <= set(saved.SCHEMA["properties"])


def test_edited_defaults_are_refused(cli: Cli, planfile: Path, config_dir: Path) -> None:
    _edit(planfile, lambda d: d.update(defaults=d["defaults"][:-1]))
    _refused(cli, planfile, config_dir, "the default objects of new profiles are [")


def test_desired_prints_are_computed_only_when_read(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An apply without a plan file never needs them; a saved plan holds them all, as
    plain text, the same as if computed at once."""
    from stackctl.compiler.compile import compile_manifests
    from stackctl.compiler.project import Inputs
    from stackctl.plan import compare
    from stackctl.plan.compute import compute_plan
    from stackctl.plan.live import read_live

    (tmp_path / "m.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: p}\nspec: {}\n---\n"
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: o, profile: p}\n"
        "spec: {type: orchestrator, flavor: local}\n")
    monkeypatch.setenv("STACKCTL_CONFIG_PATH", str(tmp_path / "config"))
    desired = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path).desired
    calls: list[str] = []
    real = compare.salted_print
    monkeypatch.setattr(compare, "salted_print",
                        lambda salt, view: (calls.append(salt), real(salt, view))[1])
    plan = compute_plan(desired, read_live(Workspace(), ["p"], []), inputs={})
    assert calls == []
    written = json.loads(saved.dumps(plan))["desired_prints"]
    assert "p/orchestrator/o" in written
    assert written["p/orchestrator/o"] == real(plan.id, compare.component_view(
        desired.profiles["p"].components[next(iter(desired.profiles["p"].components))]))
    assert len(calls) == len(written) >= 2
