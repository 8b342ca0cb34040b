"""The compiled fast check and jsonschema agree, so the fast path hides no error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stackctl import schema_check
from stackctl.compiler.load import load_file
from stackctl.errors import StackctlError

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "tests" / "cases").glob("**/*.yaml"))


def _agree(key: str, schema: dict[str, Any], instance: Any) -> None:
    slow = not any(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    assert schema_check.is_valid(key, schema, instance) is slow, (key, instance)


def _documents() -> list[dict[str, Any]]:
    docs = []
    for path in CASES:
        try:
            docs.extend(d.data for d in load_file(path))
        except StackctlError:
            continue
    return docs


def test_manifest_schemas_agree_on_every_corpus_document() -> None:
    docs = _documents()
    assert len(docs) > 50
    for schema_path in sorted((ROOT / "schemas" / "manifests").glob("*.json")):
        schema = json.loads(schema_path.read_text())
        for doc in docs:
            _agree(f"test/{schema_path.stem}", schema, doc)


def test_flavor_schemas_agree_on_every_corpus_config() -> None:
    configs = [d["spec"]["config"] for d in _documents()
               if isinstance(d.get("spec"), dict) and isinstance(d["spec"].get("config"), dict)]
    assert configs
    for schema_path in (ROOT / "schemas" / "flavors").glob("*/*.json"):
        schema = json.loads(schema_path.read_text())
        for config in configs:
            _agree(f"test/{schema_path.parent.name}/{schema_path.stem}", schema, config)


@pytest.mark.parametrize("store", [
    {"type": "local"}, {"type": "sql"}, {"type": "sql", "url": "sqlite:///x"},
    {"type": "sql", "url": "sqlite:///x", "urlFromEnv": "X"}, {"type": "local", "url": "x://"},
    {"type": "nosql"}, {"type": "sql", "urlFromEnv": "1BAD"},
])
def test_conditional_keywords_agree(store: dict[str, Any]) -> None:
    schema = json.loads((ROOT / "schemas" / "manifests" / "profile.json").read_text())
    doc = {"apiVersion": "stackctl/v1", "kind": "Profile", "metadata": {"name": "p"},
           "spec": {"store": store}}
    _agree("test/profile-conditional", schema, doc)
