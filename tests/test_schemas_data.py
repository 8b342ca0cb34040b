"""The JSON Schemas shipped in ``schemas/``: valid, consistent, and faithful to ZenML 0.10.

Flavor schemas are checked against hand-written minimal configs (one per flavor, so a
new flavor file without a case fails), their defaults and their secret fields; the
manifest kind schemas against the examples of DESIGN.md and a few broken variants.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
FLAVORS = SCHEMAS / "flavors"
MANIFESTS = SCHEMAS / "manifests"

COMPONENT_TYPES = frozenset({
    "orchestrator", "metadata_store", "artifact_store", "container_registry", "step_operator",
    "secrets_manager", "feature_store", "model_deployer", "experiment_tracker", "alerter",
    "data_validator",
})
MANIFEST_FILES = frozenset({
    "component.json", "stack.json", "profile.json", "repository.json", "globalconfig.json",
    "flavor.json", "project.json", "policy.json",
})

# Fields holding a secret value (shown as "(sensitive)", stored 0600). Fields that only
# *name* a secret (mysql/seldon `secret`, `authentication_secret`) are not among them.
SECRET_FIELDS = frozenset({
    "artifact_store/s3.key", "artifact_store/s3.secret", "artifact_store/s3.token",
    "metadata_store/mysql.password",
    "experiment_tracker/mlflow.tracking_password", "experiment_tracker/mlflow.tracking_token",
    "secrets_manager/vault.token",
    "alerter/slack.slack_token",
    "experiment_tracker/wandb.api_key",
    "step_operator/azureml.service_principal_password",
})

# Every flavor, with exactly its required fields filled in plausibly.
MINIMAL_CONFIGS: dict[str, dict[str, Any]] = {
    "orchestrator/local": {},
    "orchestrator/airflow": {},
    "orchestrator/kubeflow": {},
    "orchestrator/kubernetes": {},
    "orchestrator/vertex": {"location": "europe-west1"},
    "orchestrator/github": {},
    "metadata_store/sqlite": {"uri": "/home/user/.config/zenml/local_stores/abc/metadata.db"},
    "metadata_store/mysql": {"host": "mysql.example.com", "database": "zenml"},
    "metadata_store/kubeflow": {},
    "metadata_store/kubernetes": {"deployment_name": "zenml-mysql",
                                  "kubernetes_context": "kind-zenml"},
    "artifact_store/local": {"path": "/home/user/.config/zenml/local_stores/abc"},
    "artifact_store/s3": {"path": "s3://my-bucket/zenml"},
    "artifact_store/gcp": {"path": "gs://my-bucket/zenml"},
    "artifact_store/azure": {"path": "az://my-container/zenml"},
    "container_registry/default": {"uri": "localhost:5000"},
    "container_registry/azure": {"uri": "myregistry.azurecr.io"},
    "container_registry/dockerhub": {"uri": "docker.io/my-user"},
    "container_registry/gcp": {"uri": "gcr.io/my-project"},
    "container_registry/github": {"uri": "ghcr.io/my-org"},
    "container_registry/gitlab": {"uri": "registry.gitlab.com/my-group/my-project"},
    "container_registry/aws": {"uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com"},
    "step_operator/sagemaker": {"role": "arn:aws:iam::123456789012:role/sagemaker",
                                "instance_type": "ml.m5.large"},
    "step_operator/azureml": {"subscription_id": "00000000-0000-0000-0000-000000000000",
                              "resource_group": "ml", "workspace_name": "ml-ws",
                              "compute_target_name": "cpu-cluster"},
    "step_operator/vertex": {"region": "europe-west1"},
    "secrets_manager/local": {},
    "secrets_manager/aws": {},
    "secrets_manager/azure_key_vault": {"key_vault_name": "my-vault"},
    "secrets_manager/gcp_secrets_manager": {"project_id": "my-project"},
    "secrets_manager/github": {"owner": "my-org", "repository": "ml-project"},
    "secrets_manager/vault": {"url": "https://vault.example.com:8200", "token": "s.abc123",
                              "mount_point": "secret"},
    "feature_store/feast": {"feast_repo": "/home/user/feast_repo"},
    "model_deployer/mlflow": {},
    "model_deployer/seldon": {"base_url": "http://seldon.example.com"},
    "experiment_tracker/mlflow": {},
    "experiment_tracker/wandb": {"api_key": "0123456789abcdef"},
    "alerter/slack": {"slack_token": "xoxb-123"},
    "data_validator/great_expectations": {},
}

# Values ZenML refuses, per "type/flavor": (field, bad value).
BAD_VALUES: list[tuple[str, str, Any]] = [
    ("artifact_store/s3", "path", "gs://wrong-scheme/zenml"),
    ("artifact_store/gcp", "path", "s3://wrong-scheme/zenml"),
    ("artifact_store/azure", "path", "/local/path"),
    ("metadata_store/sqlite", "uri", "s3://bucket/metadata.db"),
    ("container_registry/aws", "uri", "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo"),
    ("metadata_store/mysql", "port", "3306"),
    ("orchestrator/vertex", "labels", {"team": 1}),
]


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _key(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


ALL_FILES = sorted(SCHEMAS.rglob("*.json"))
FLAVOR_FILES = sorted(FLAVORS.glob("*/*.json"))
FLAVOR_SCHEMAS = {_key(p): _load(p) for p in FLAVOR_FILES}


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(SCHEMAS)) for p in paths]


def _subschemas(schema: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (JSON pointer, subschema) of a schema, following the schema keywords only."""
    if not isinstance(schema, dict):
        return
    yield pointer, schema
    for keyword in ("properties", "$defs", "patternProperties"):
        for name, sub in schema.get(keyword, {}).items():
            yield from _subschemas(sub, f"{pointer}/{keyword}/{_escape(name)}")
    for keyword in ("items", "additionalProperties", "propertyNames", "if", "then", "else",
                    "not", "contains"):
        yield from _subschemas(schema.get(keyword), f"{pointer}/{keyword}")
    for keyword in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for index, sub in enumerate(schema.get(keyword, [])):
            yield from _subschemas(sub, f"{pointer}/{keyword}/{index}")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def test_every_component_type_and_flavor_is_present() -> None:
    assert {p.name for p in FLAVORS.iterdir() if p.is_dir()} == COMPONENT_TYPES
    assert set(FLAVOR_SCHEMAS) == set(MINIMAL_CONFIGS), (
        "each flavor schema needs a case in MINIMAL_CONFIGS (and each case a schema)")
    assert {p.name for p in MANIFESTS.glob("*.json")} == MANIFEST_FILES


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = _load(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    relative = path.relative_to(SCHEMAS).as_posix()
    assert schema["$id"] == f"https://stackctl.dev/schemas/{relative}"


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_every_default_is_valid_for_its_own_schema(path: Path) -> None:
    schema = _load(path)
    registry: Registry[Any] = Resource.from_contents(schema) @ Registry()
    for pointer, sub in _subschemas(schema):
        if "default" in sub:
            check = Draft202012Validator({"$ref": f"{schema['$id']}#{pointer}"},
                                         registry=registry)
            assert check.is_valid(sub["default"]), f"{pointer}: bad default {sub['default']!r}"


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_everything_is_described(path: Path) -> None:
    schema = _load(path)
    assert schema.get("title")
    assert schema.get("description")
    conditions = {"if", "then", "else", "not", "allOf", "anyOf", "oneOf"}
    for pointer, sub in _subschemas(schema):
        segments = pointer.split("/")
        # Fields an editor shows; subschemas of conditions only constrain them.
        if len(segments) > 2 and segments[-2] == "properties" and not conditions & set(segments):
            assert sub.get("description"), f"{pointer} has no description"


@pytest.mark.parametrize("path", FLAVOR_FILES, ids=_ids(FLAVOR_FILES))
def test_flavor_file_matches_its_identity(path: Path) -> None:
    schema = _load(path)
    meta = schema["x-stackctl-flavor"]
    assert (meta["type"], meta["name"]) == (path.parent.name, path.stem)
    assert schema["$id"] == f"https://stackctl.dev/schemas/flavors/{meta['type']}/{meta['name']}.json"
    assert schema["title"] == f"{meta['type']} flavor '{meta['name']}'"
    assert meta["source"].startswith("zenml.")
    assert meta["source"].count(".") >= 2
    builtin = meta["source"].split(".")[1] != "integrations"
    assert (meta["integration"] == "built-in") == builtin, meta
    if not builtin:
        assert meta["source"].split(".")[2] == meta["integration"]


@pytest.mark.parametrize("path", FLAVOR_FILES, ids=_ids(FLAVOR_FILES))
def test_flavor_fields_have_zenml_shape(path: Path) -> None:
    schema = _load(path)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    properties: Mapping[str, Any] = schema["properties"]
    required = set(schema.get("required", []))
    assert required <= set(properties)
    assert not {"name", "uuid", "type", "flavor"} & set(properties), "identity is not config"
    for field, sub in properties.items():
        # Required fields have no default; every optional one has ZenML's.
        assert ("default" in sub) != (field in required), field


@pytest.mark.parametrize("path", FLAVOR_FILES, ids=_ids(FLAVOR_FILES))
def test_flavor_accepts_minimal_config_and_rejects_unknown_field(path: Path) -> None:
    schema = _load(path)
    minimal = MINIMAL_CONFIGS[_key(path)]
    assert set(minimal) == set(schema.get("required", [])), "case must be the required fields"
    validator = Draft202012Validator(schema)
    assert not list(validator.iter_errors(minimal))
    errors = list(validator.iter_errors({**minimal, "no_such_field": "x"}))
    assert [e.validator for e in errors] == ["additionalProperties"]
    for field in schema.get("required", []):
        partial = {k: v for k, v in minimal.items() if k != field}
        assert not validator.is_valid(partial), f"missing {field} accepted"


@pytest.mark.parametrize("path", FLAVOR_FILES, ids=_ids(FLAVOR_FILES))
def test_flavor_accepts_all_defaults_filled_in(path: Path) -> None:
    schema = _load(path)
    filled = {k: v["default"] for k, v in schema["properties"].items() if "default" in v}
    filled.update(MINIMAL_CONFIGS[_key(path)])
    assert Draft202012Validator(schema).is_valid(filled)


@pytest.mark.parametrize(("flavor", "field", "value"), BAD_VALUES)
def test_flavor_refuses_what_zenml_refuses(flavor: str, field: str, value: Any) -> None:
    config = {**MINIMAL_CONFIGS[flavor], field: value}
    assert not Draft202012Validator(FLAVOR_SCHEMAS[flavor]).is_valid(config)


def test_zenml_defaults_of_base_classes() -> None:
    for key, schema in FLAVOR_SCHEMAS.items():
        props = schema["properties"]
        ctype = key.split("/")[0]
        if ctype == "metadata_store":
            expected = key != "metadata_store/kubeflow"
            assert props["upgrade_migration_enabled"]["default"] is expected, key
        if ctype == "artifact_store":
            assert props["path"]["type"] == "string", key
            assert "path" in schema["required"], key
        if ctype == "container_registry":
            assert "uri" in schema["required"], key
            assert props["authentication_secret"] == {
                **props["authentication_secret"], "type": ["string", "null"], "default": None}
    assert FLAVOR_SCHEMAS["secrets_manager/local"]["properties"]["secrets_file"]["default"] == ""
    assert FLAVOR_SCHEMAS["secrets_manager/aws"]["properties"]["region_name"]["default"] == (
        "us-east-1")
    kfp = FLAVOR_SCHEMAS["orchestrator/kubeflow"]["properties"]
    assert kfp["kubeflow_pipelines_ui_port"]["default"] == 8080
    assert FLAVOR_SCHEMAS["metadata_store/kubeflow"]["properties"]["port"]["default"] == 8081


def test_secret_fields_are_exactly_the_secret_values() -> None:
    found = {
        f"{key}.{field}"
        for key, schema in FLAVOR_SCHEMAS.items()
        for field, sub in schema["properties"].items()
        if sub.get("writeOnly") is True
    }
    assert found == SECRET_FIELDS
    for name in SECRET_FIELDS:
        key, field = name.split(".")
        assert "string" in FLAVOR_SCHEMAS[key]["properties"][field]["type"], name


# --- manifest kinds --------------------------------------------------------------------

def _manifest_validator(kind_file: str) -> Draft202012Validator:
    return Draft202012Validator(_load(MANIFESTS / kind_file))


# The examples of DESIGN.md "Manifests", one per kind.
GOOD_MANIFESTS: list[tuple[str, dict[str, Any]]] = [
    ("component.json", {
        "apiVersion": "stackctl/v1", "kind": "Component",
        "metadata": {"name": "s3-artifacts", "profile": "production", "labels": {"team": "ml"}},
        "spec": {"type": "artifact_store", "flavor": "s3",
                 "config": {"path": "s3://my-bucket/zenml"}},
    }),
    ("stack.json", {
        "apiVersion": "stackctl/v1", "kind": "Stack",
        "metadata": {"name": "prod", "profile": "production"},
        "spec": {"components": {"orchestrator": "kubeflow", "artifact_store": "s3-artifacts",
                                "metadata_store": "mysql-meta"}},
    }),
    ("profile.json", {
        "apiVersion": "stackctl/v1", "kind": "Profile", "metadata": {"name": "production"},
        "spec": {"store": {"type": "local"}, "activeStack": "prod"},
    }),
    ("profile.json", {
        "apiVersion": "stackctl/v1", "kind": "Profile", "metadata": {"name": "shared"},
        "spec": {"store": {"type": "sql", "url": "postgresql+psycopg://zenml@db/zenml"}},
    }),
    ("profile.json", {
        "apiVersion": "stackctl/v1", "kind": "Profile", "metadata": {"name": "shared"},
        "spec": {"store": {"type": "sql", "urlFromEnv": "ZENML_STORE_URL"}},
    }),
    ("repository.json", {
        "apiVersion": "stackctl/v1", "kind": "Repository", "metadata": {"name": "ml-project"},
        "spec": {"path": ".", "activeProfile": "production", "activeStack": "prod"},
    }),
    ("globalconfig.json", {
        "apiVersion": "stackctl/v1", "kind": "GlobalConfig", "metadata": {"name": "global"},
        "spec": {"activeProfile": "production"},
    }),
    ("flavor.json", {
        "apiVersion": "stackctl/v1", "kind": "Flavor", "metadata": {"name": "my-orchestrator"},
        "spec": {"type": "orchestrator", "source": "my_pkg.orchestrators.MyOrchestrator",
                 "configSchema": {"type": "object", "properties": {"host": {"type": "string"}},
                                  "additionalProperties": False}},
    }),
    ("project.json", {
        "manifests": ["stacks/", "components.yaml"], "defaultProfile": "production",
        "vars": {"region": "eu-west-1"},
        "environments": {"dev": {"bucket": "ml-dev"}, "prod": {"bucket": "ml-prod"}},
    }),
]


def _broken(kind_file: str, index: int = 0, **changes: Any) -> tuple[str, dict[str, Any]]:
    """The first good example of a kind, with top-level keys or spec keys changed."""
    doc = json.loads(json.dumps([m for f, m in GOOD_MANIFESTS if f == kind_file][index]))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = doc
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return kind_file, doc


BAD_MANIFESTS: list[tuple[str, dict[str, Any]]] = [
    _broken("component.json", apiVersion="stackctl/v2"),
    _broken("component.json", kind="Stack"),
    _broken("component.json", spec=None),
    _broken("component.json", metadata__name="bad name"),
    _broken("component.json", metadata__name="x" * 201),
    _broken("component.json", metadata__labels={"team": 1}),
    _broken("component.json", metadata__owner="me"),
    _broken("component.json", spec__type="artifact-store"),
    _broken("component.json", spec__flavor=None),
    _broken("component.json", spec__config="path=s3://x"),
    _broken("stack.json", spec__components={"orchestrators": "default"}),
    _broken("stack.json", spec__components={"orchestrator": 3}),
    _broken("stack.json", spec__extra=True),
    _broken("profile.json", spec__store={"type": "local", "url": "sqlite:///x.db"}),
    _broken("profile.json", spec__store={"type": "sql", "urlFromEnv": "lower-case-dash"}),
    _broken("profile.json", spec__store={"type": "sql", "url": "mysql://h/db",
                                         "urlFromEnv": "URL"}),
    _broken("profile.json", spec__store={"type": "mongo"}),
    _broken("profile.json", metadata__profile="other"),
    _broken("repository.json", spec__path=None),
    _broken("globalconfig.json", spec__activeStack="prod"),
    _broken("flavor.json", spec__configSchema=None),
    _broken("flavor.json", spec__source="not a path"),
    _broken("flavor.json", spec__type="orchestrators"),
    _broken("project.json", environments={"dev": "ml-dev"}),
    _broken("project.json", manifests="stacks/"),
    _broken("project.json", apiVersion="stackctl/v1"),
]


@pytest.mark.parametrize(("kind_file", "manifest"), GOOD_MANIFESTS,
                         ids=[f for f, _ in GOOD_MANIFESTS])
def test_design_examples_are_valid(kind_file: str, manifest: dict[str, Any]) -> None:
    errors = [e.message for e in _manifest_validator(kind_file).iter_errors(manifest)]
    assert errors == []


@pytest.mark.parametrize(("kind_file", "manifest"), BAD_MANIFESTS,
                         ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_MANIFESTS)])
def test_broken_manifests_are_refused(kind_file: str, manifest: dict[str, Any]) -> None:
    assert not _manifest_validator(kind_file).is_valid(manifest)
