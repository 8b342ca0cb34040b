"""`schema export` (with the bundle for editors), `schema show` and `explain`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import STACKCTL, run_process
from jsonschema import Draft7Validator

VALID = Path(__file__).resolve().parent / "cases" / "valid"
COMPONENT = {"apiVersion": "stackctl/v1", "kind": "Component", "metadata": {"name": "a"},
             "spec": {"type": "artifact_store", "flavor": "local", "config": {"path": "/x"}}}


def _walk(node: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((key, value))
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def _export(tmp_path: Path, *paths: str, cwd: Path | None = None) -> dict[str, Any]:
    result = run_process([STACKCTL, "schema", "export", str(tmp_path / "out"), *paths],
                         cwd or tmp_path)
    assert result.rc == 0, result.stderr
    assert (tmp_path / "out" / "manifests" / "component.json").is_file()
    bundle: dict[str, Any] = json.loads((tmp_path / "out" / "stackctl.schema.json").read_text())
    return bundle


def test_bundle_is_self_contained_and_dispatches_on_kind_and_flavor(tmp_path: Path) -> None:
    bundle = _export(tmp_path)
    Draft7Validator.check_schema(bundle)
    pairs = _walk(bundle)
    assert not [v for k, v in pairs if k == "$id"]  # an $id would make editors fetch URLs
    assert all(str(v).startswith("#/definitions/") for k, v in pairs if k == "$ref")
    validator = Draft7Validator(bundle)
    assert list(validator.iter_errors(COMPONENT)) == []

    def messages(doc: dict[str, Any]) -> list[str]:
        return sorted(e.message for e in validator.iter_errors(doc))

    typo = json.loads(json.dumps(COMPONENT))
    typo["spec"]["config"] = {"pathh": "/x"}
    assert messages(typo) == ["'path' is a required property",
                              "Additional properties are not allowed ('pathh' was unexpected)"]
    s3 = json.loads(json.dumps(COMPONENT))
    s3["spec"]["flavor"] = "s3"  # the s3 schema applies now: a local path is not s3://
    assert messages(s3) == ["'/x' does not match '^s3://'"]
    stack = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": "s"},
             "spec": {"components": {"orchestrator": "default"}}, "bogus": 1}
    assert messages(stack) == ["Additional properties are not allowed ('bogus' was unexpected)"]
    assert messages({"apiVersion": "stackctl/v1", "kind": "Stak"}) == [
        "'Stak' is not one of ['Component', 'Stack', 'Profile', 'Repository', 'GlobalConfig', "
        "'Flavor', 'Policy']"]
    secret = bundle["definitions"]["flavor.artifact_store.s3"]["properties"]["secret"]
    assert secret["description"].startswith("Secret (write-only): stackctl never prints it")


def test_bundle_includes_the_projects_custom_flavors(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(VALID / "team-profiles", project)
    bundle = _export(tmp_path, str(project))
    custom = bundle["definitions"]["flavor.orchestrator.my-orchestrator"]
    assert custom["properties"]["replicas"] == {"type": "integer", "minimum": 1, "default": 1}
    assert custom["properties"]["token"]["description"].startswith("Secret (write-only)")
    mine = {"apiVersion": "stackctl/v1", "kind": "Component", "metadata": {"name": "m"},
            "spec": {"type": "orchestrator", "flavor": "my-orchestrator",
                     "config": {"replicas": "three"}}}
    assert [e.message for e in Draft7Validator(bundle).iter_errors(mine)] == [
        "'three' is not of type 'integer'"]
    # from a directory without a project file or paths: built-in flavors only
    plain = _export(tmp_path / "project" / "..", cwd=tmp_path)
    assert "flavor.orchestrator.my-orchestrator" not in plain["definitions"]


def test_schema_show_kinds_and_flavors(tmp_path: Path) -> None:
    result = run_process([STACKCTL, "schema", "show", "s3"], tmp_path)
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "artifact_store flavor 's3'"
    result = run_process([STACKCTL, "schema", "show", "orchestrator/kubeflow"], tmp_path)
    assert json.loads(result.stdout)["title"] == "orchestrator flavor 'kubeflow'"
    result = run_process([STACKCTL, "schema", "show", "stack"], tmp_path)
    assert json.loads(result.stdout)["title"] == "stackctl Stack manifest"
    result = run_process([STACKCTL, "schema", "show", "local"], tmp_path)
    assert (result.rc, result.stdout) == (1, "")
    assert result.stderr == ("Error: Flavor 'local' exists for several component types.\n"
                             "  hint: Name one: artifact_store/local, orchestrator/local, "
                             "secrets_manager/local.\n")
    result = run_process([STACKCTL, "schema", "show", "s4"], tmp_path)
    assert result.rc == 1
    assert result.stderr.startswith("Error: Unknown kind or flavor 's4'.\n  hint: Kinds: ")


def test_explain_flavor_text(tmp_path: Path) -> None:
    result = run_process([STACKCTL, "explain", "artifact_store/s3"], tmp_path)
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["FLAVOR: artifact_store/s3", ""]
    assert "    path  <string>  -required-" in lines
    assert "    secret  <string | null>  -secret-  default: null" in lines
    assert "    client_kwargs  <mapping | null>  default: null" in lines


def test_explain_kind_and_json(tmp_path: Path) -> None:
    result = run_process([STACKCTL, "explain", "Stack"], tmp_path)
    assert result.rc == 0
    assert "        components  <mapping>" in result.stdout.splitlines()
    result = run_process([STACKCTL, "explain", "s3", "--format", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert (data["target"], data["what"]) == ("artifact_store/s3", "flavor")
    fields = {f["path"]: f for f in data["fields"]}
    assert fields["key"] == {"path": "key", "type": "string | null", "required": False,
                             "secret": True, "default": None, "has_default": True,
                             "description": fields["key"]["description"]}
    assert fields["path"]["required"] is True
    assert fields["path"]["has_default"] is False


@pytest.mark.parametrize(("name", "message"), [
    ("artifact_store", "Error: 'artifact_store' is a component type; name one of its flavors.\n"
     "  hint: For example: artifact_store/azure, artifact_store/gcp, artifact_store/local, "
     "artifact_store/s3.\n"),
    ("artifact_store/s4", "Error: Unknown kind or flavor 'artifact_store/s4'.\n"),
])
def test_explain_unknown(tmp_path: Path, name: str, message: str) -> None:
    result = run_process([STACKCTL, "explain", name], tmp_path)
    assert (result.rc, result.stdout) == (1, "")
    assert result.stderr.startswith(message)
