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


# -- compiled validators kept in the cache directory ------------------------------------------

def _fresh(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    monkeypatch.setenv("STACKCTL_CACHE_DIR", str(cache))
    monkeypatch.setattr(schema_check, "_compiled", {})


def test_compiled_validators_come_back_from_the_cache_and_still_agree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fastjsonschema

    docs = _documents()
    schemas = [json.loads(p.read_text())
               for p in sorted((ROOT / "schemas" / "manifests").glob("*.json"))]
    _fresh(monkeypatch, tmp_path)
    for i, schema in enumerate(schemas):
        schema_check.is_valid(f"test/{i}", schema, {})
    assert len(list((tmp_path / "validators").iterdir())) == len(schemas)

    def generated(*_a: object, **_k: object) -> str:
        raise AssertionError("generated again: not taken from the cache")

    _fresh(monkeypatch, tmp_path)  # a new run: nothing compiled in this process yet
    monkeypatch.setattr(fastjsonschema, "compile_to_code", generated)
    for i, schema in enumerate(schemas):
        for doc in docs:
            _agree(f"test/{i}", schema, doc)


@pytest.mark.parametrize("damage", ["others may write it", "others may write its directory",
                                    "garbage", "a symlink"])
def test_a_cache_entry_is_executed_only_if_it_is_ours_and_sound(
        damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fastjsonschema

    schema = {"type": "object", "required": ["a"]}
    _fresh(monkeypatch, tmp_path)
    schema_check.is_valid("t", schema, {})
    [entry] = (tmp_path / "validators").iterdir()
    if damage == "others may write it":
        entry.chmod(0o666)
    elif damage == "others may write its directory":
        entry.parent.chmod(0o777)
    elif damage == "garbage":
        entry.write_bytes(b"\x00not marshal")
    else:
        moved = tmp_path / "elsewhere.bin"
        entry.rename(moved)
        entry.symlink_to(moved)
    calls: list[object] = []
    real = fastjsonschema.compile_to_code

    def counted(*args: Any, **kwargs: Any) -> str:
        calls.append(args)
        return real(*args, **kwargs)

    _fresh(monkeypatch, tmp_path)
    monkeypatch.setattr(fastjsonschema, "compile_to_code", counted)
    assert schema_check.is_valid("t", schema, {"a": 1})
    assert not schema_check.is_valid("t", schema, {})
    assert len(calls) == 1  # compiled afresh
