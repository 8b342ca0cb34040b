"""Discovering, rendering and loading manifests, driven by the files in cases/load.

Every file in ``cases/load/bad`` names on its first line the error it must raise:
``# expect: RULE LINE:COLUMN "part of the message"`` (column 0: Jinja gives no
column). Adding a case is adding a file. ``cases/load/good`` files are checked
value by value and position by position below.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackctl.compiler import load
from stackctl.compiler.discover import ManifestPathError, find_manifest_files
from stackctl.compiler.load import Document, load_file, load_text
from stackctl.compiler.render import load_template, load_var_file, parse_var, render_template
from stackctl.errors import Location, ManifestError, UsageError

CASES = Path(__file__).parent / "cases" / "load"
GOOD = CASES / "good"
BAD = CASES / "bad"
VARS: dict[str, Any] = {"bucket": "ml-dev", "region": "eu-west-1", "tags": ["gold", "audited"]}
ENV = {"USER": "ci"}
EXPECT = re.compile(r'expect: (?P<rule>[\w-]+) (?P<line>\d+):(?P<column>\d+)(?: "(?P<text>.*)")?')


@pytest.fixture(params=["libyaml", "pure-python"])
def composer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with libyaml and again with PyYAML's pure-Python fallback."""
    if request.param == "pure-python":
        monkeypatch.setattr(load, "_Composer", yaml.SafeLoader)
        monkeypatch.setattr(load, "_BYTE_OFFSETS", False)
    load._compose_all.cache_clear()
    yield request.param
    load._compose_all.cache_clear()


def load_case(path: Path, variables: dict[str, Any] = VARS) -> list[Document]:
    if path.name.endswith(".j2"):
        return load_template(path, variables, ENV)
    return load_file(path)


def expectation(path: Path) -> tuple[str, int, int, str]:
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("latin-1")
    match = EXPECT.search(text.splitlines()[0])
    assert match, f'{path.name}: first line must say: expect: RULE LINE:COLUMN "message"'
    return match["rule"], int(match["line"]), int(match["column"]), match["text"] or ""


@pytest.mark.parametrize("case", sorted(BAD.iterdir()), ids=lambda p: p.name)
def test_bad_case_raises_located_error(case: Path, composer: str) -> None:
    rule, line, column, text = expectation(case)
    with pytest.raises(ManifestError) as caught:
        load_case(case)
    error = caught.value
    assert (error.rule, error.location) == (rule, Location(str(case), line, column))
    assert text in error.message
    assert str(error).startswith(f"{case}:{line}:{column}: " if column else f"{case}:{line}: ")


def test_billion_laughs_fails_fast_and_small() -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(load.AliasLimitError):
        load_file(BAD / "billion-laughs.yaml")
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 5_000_000


def test_alias_limit_is_inclusive(composer: str) -> None:
    text = "value: &v shared\n" + "".join(f"k{i}: *v\n" for i in range(load.MAX_ALIASES))
    (document,) = load_text(text, Path("m.yaml"))
    assert document.data["k99"] == "shared"
    with pytest.raises(load.AliasLimitError, match="more than 100 alias uses"):
        load_text(text + "one_more: *v\n", Path("m.yaml"))


def test_node_limit_applies_without_aliases_too() -> None:
    text = "items: [" + "1, " * load.MAX_NODES + "]\n"
    with pytest.raises(load.AliasLimitError) as caught:
        load_text(text, Path("big.yaml"))
    assert caught.value.location == Location("big.yaml", 1, 8)


@pytest.mark.parametrize("depth", [600, 1200])
def test_nesting_too_deep_is_a_syntax_error(depth: int, composer: str) -> None:
    # libyaml stops at 1,000 levels itself; Python recursion stops sooner.
    text = "a:\n" + "".join("  " * level + f"k{level}:\n" for level in range(1, depth))
    with pytest.raises(load.YamlSyntaxError, match="nest"):
        load_text(text, Path("deep.yaml"))


def test_component_values_and_positions(composer: str) -> None:
    path = GOOD / "component.yaml"
    (doc,) = load_file(path)
    assert doc.data == {
        "apiVersion": "stackctl/v1",
        "kind": "Component",
        "metadata": {"name": "s3-artifacts", "profile": "production",
                     "labels": {"team": "ml", "tier": "1"}},
        "spec": {
            "type": "artifact_store",
            "flavor": "s3",
            "config": {
                "path": "s3://my-bucket/zenml",
                "retries": 3,
                "timeout": 2.5,
                "verify": True,
                "endpoint": None,
                "created": "2024-01-31",  # dates stay text: manifests are JSON-like
                "regions": ["eu-west-1", {"name": "us-east-1", "weight": 16}],
            },
        },
    }
    assert (doc.path, doc.index, doc.line, doc.column, doc.rendered) == (path, 0, 2, 1, False)

    def at(line: int, column: int) -> Location:
        return Location(str(path), line, column)

    assert doc.locate(("spec", "config", "path")) == at(12, 11)
    assert doc.locate_key(("spec", "config", "path")) == at(12, 5)
    assert doc.locate(["kind"]) == at(3, 7)
    assert doc.locate(("metadata", "labels", "tier")) == at(7, 28)
    assert doc.locate_key(("metadata", "labels", "tier")) == at(7, 22)
    assert doc.locate(("spec", "config", "regions", 1, "weight")) == at(21, 17)
    assert doc.locate_key(("spec", "config", "regions", 1, "weight")) == at(21, 9)
    assert doc.locate(("spec", "config", "regions", 0)) == at(19, 9)
    # Missing steps fall back to the deepest node that exists.
    assert doc.locate(("spec", "config", "missing")) == at(12, 5)
    assert doc.locate_key(("spec", "config", "missing")) == at(12, 5)
    assert doc.locate(("spec", "config", "regions", 5)) == at(19, 7)
    assert doc.locate(("spec", "type", "deeper")) == at(9, 9)
    assert doc.locate(("spec", "config", "regions", "name")) == at(19, 7)
    assert doc.locate(()) == at(2, 1)


def test_locating_composes_the_file_only_as_far_as_the_document(
        composer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A diagnostic in an early document of a long file (a policy violation, say)
    does not recompose the documents after it; positions stay exact everywhere."""
    docs = [f"kind: Component\nmetadata:\n  name: c{i}\n" for i in range(40)]
    path = tmp_path / "many.yaml"
    path.write_text("---\n".join(docs))
    loaded = load_file(path)
    composed: list[int] = []
    real = load._Composer

    class Counting(real):  # type: ignore[misc,valid-type]
        def get_node(self) -> Any:
            composed.append(1)
            return super().get_node()

    monkeypatch.setattr(load, "_Composer", Counting)
    load._compose_all.cache_clear()
    assert loaded[0].locate(("metadata", "name")) == Location(str(path), 3, 9)
    assert len(composed) == 1
    assert loaded[5].locate(("metadata", "name")) == Location(str(path), 5 * 4 + 3, 9)
    assert len(composed) == 1 + 8  # up to the next power of two: 8 documents
    assert loaded[39].locate(("metadata", "name")) == Location(str(path), 39 * 4 + 3, 9)
    assert [d.locate(("metadata", "name")).line for d in loaded] == [
        i * 4 + 3 for i in range(40)]
    assert len(composed) <= 3 * 40  # a few times each at most, not once per diagnostic


def test_multiple_documents_skip_nulls(composer: str) -> None:
    path = GOOD / "multi.yaml"
    docs = load_file(path)
    assert [(d.index, d.line, d.column, d.data["kind"]) for d in docs] == [
        (0, 3, 1, "Stack"),
        (2, 12, 1, "Profile"),
        (4, 20, 1, "GlobalConfig"),
    ]
    assert docs[0].data["spec"] == {
        "components": {"orchestrator": "kubeflow", "artifact_store": "s3-artifacts"}
    }
    assert docs[0].locate(("metadata", "profile")) == Location(str(path), 5, 33)
    assert docs[1].locate(("spec", "store", "type")) == Location(str(path), 16, 17)
    assert docs[1].locate_key(("spec", "store", "type")) == Location(str(path), 16, 11)
    assert docs[2].locate(("spec", "activeProfile")) == Location(str(path), 23, 23)
    assert docs[2].locate_key(("spec", "activeProfile")) == Location(str(path), 23, 8)


def test_anchors_and_merge_keys(composer: str) -> None:
    path = GOOD / "anchors.yaml"
    (doc,) = load_file(path)
    config = doc.data["spec"]["config"]
    assert config == {
        "retries": 3,
        "timeout": 120,
        "labels": {"team": "ml", "cost-center": "42"},
        "both": {"team": "ml", "cost-center": "42", "extra": True},
    }
    # An alias is a copy: changing one place must not change another.
    assert config["labels"] == doc.data["metadata"]["labels"]
    assert config["labels"] is not doc.data["metadata"]["labels"]
    # Merged and aliased values are located where they are written.
    assert doc.locate(("spec", "config", "retries")) == Location(str(path), 10, 14)
    assert doc.locate(("spec", "config", "timeout")) == Location(str(path), 14, 14)
    assert doc.locate(("spec", "config", "labels", "team")) == Location(str(path), 5, 26)
    assert doc.locate(("spec", "config", "both", "team")) == Location(str(path), 5, 26)
    # Same values as PyYAML but one: for '<<: [*a, *b]' the YAML merge spec lets
    # the earlier mapping win, PyYAML 6.0.4 (usually) the later.
    pyyaml = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert pyyaml["spec"]["config"]["both"]["team"] == "data"
    pyyaml["spec"]["config"]["both"]["team"] = "ml"
    assert doc.data == pyyaml


def test_columns_count_characters_not_bytes(composer: str) -> None:
    path = GOOD / "unicode.yaml"
    (doc,) = load_file(path)
    assert doc.data["metadata"]["labels"] == {"ünïcode": "ü", "team": "ml"}
    assert doc.locate(("metadata", "labels", "team")) == Location(str(path), 3, 71)
    assert doc.locate_key(("metadata", "labels", "team")) == Location(str(path), 3, 65)
    assert doc.locate(("spec", "type")) == Location(str(path), 6, 9)


def test_byte_order_mark_is_accepted(composer: str) -> None:
    path = GOOD / "bom.yaml"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    (doc,) = load_file(path)
    assert doc.data == {"apiVersion": "stackctl/v1", "kind": "Profile",
                        "metadata": {"name": "bom"}, "spec": {"store": {"type": "local"}}}
    assert (doc.line, doc.column) == (1, 1)
    assert doc.locate(("spec", "store", "type")) == Location(str(path), 5, 17)


@pytest.mark.parametrize("name", ["empty.yaml", "comments-only.yaml"])
def test_files_without_documents_load_as_nothing(name: str) -> None:
    assert load_file(GOOD / name) == []


def test_template_renders_with_vars_and_env(composer: str) -> None:
    path = GOOD / "bucket.yaml.j2"
    (doc,) = load_template(path, VARS, ENV)
    assert doc.rendered
    assert doc.path == path
    assert doc.data["metadata"] == {"name": "artifacts-ml-dev", "labels": {"owner": "ci"}}
    assert doc.data["spec"]["config"] == {
        "path": "s3://ml-dev/zenml",
        "region": "eu-west-1",
        "tag_1": "gold",
        "tag_2": "audited",
    }
    # Positions are in the rendered output; the comment line renders empty.
    assert doc.locate(("spec", "config", "tag_2")) == Location(str(path), 14, 12)


def test_template_default_filter_works_under_strict_undefined() -> None:
    text = 'region: {{ vars.region | default("us-east-1") }}\n'
    assert render_template(Path("t.yaml.j2"), text, {}, {}) == "region: us-east-1\n"


def test_unreadable_file_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(load.ManifestReadError, match="cannot read manifest") as caught:
        load_file(tmp_path / "missing.yaml")
    assert caught.value.location == Location(str(tmp_path / "missing.yaml"))


def test_document_is_a_frozen_value() -> None:
    doc = Document(Path("m.yaml"), 0, {"kind": "Stack"}, 3, 1)
    with pytest.raises(FrozenInstanceError):
        doc.index = 1  # type: ignore[misc]
    # Built by hand (no text to recompose), it can only point at its start.
    assert doc.locate(("kind",)) == Location("m.yaml", 3, 1)


def test_var_file_is_one_mapping(tmp_path: Path) -> None:
    assert load_var_file(GOOD / "vars.yaml") == {
        "bucket": "ml-prod", "region": "eu-central-1", "tags": ["gold", "audited"]
    }
    empty = tmp_path / "empty.yaml"
    empty.write_text("# no vars\n", encoding="utf-8")
    assert load_var_file(empty) == {}


@pytest.mark.parametrize(
    ("text", "rule", "line"),
    [
        ("- a\n- b\n", "not-a-mapping", 1),
        ("a: 1\n---\nb: 2\n", "var-file", 3),
        ("a: 1\na: 2\n", "duplicate-key", 2),
    ],
)
def test_bad_var_files(tmp_path: Path, text: str, rule: str, line: int) -> None:
    path = tmp_path / "vars.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_var_file(path)
    assert (caught.value.rule, caught.value.location) == (rule, Location(str(path), line, 1))


def test_parse_var() -> None:
    assert parse_var("bucket=ml-dev") == ("bucket", "ml-dev")
    assert parse_var("url=postgres://u@h/db?sslmode=require") == (
        "url", "postgres://u@h/db?sslmode=require"
    )
    assert parse_var("empty=") == ("empty", "")
    for bad in ("bucket", "=value", ""):
        with pytest.raises(UsageError, match="KEY=VALUE"):
            parse_var(bad)


def test_jinja2_is_imported_only_when_rendering() -> None:
    code = (
        "import sys, stackctl.compiler.render, stackctl.compiler.discover; "
        "assert 'jinja2' not in sys.modules, 'jinja2 imported at start-up'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def make_tree(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("kind: Stack\n", encoding="utf-8")


def test_discovery_rules(tmp_path: Path) -> None:
    make_tree(tmp_path, [
        "a.yaml", "b.yml", "c.yaml.j2", "d.yml.j2",
        "notes.txt", "e.json", "f.yaml.bak", "stackctl.yaml", ".pre-commit-config.yaml",
        "sub/g.yaml", "sub/stackctl.yaml", "sub/deeper/h.yml",
        ".git/i.yaml", ".zen/j.yaml", "sub/.cache/k.yaml", "sub/.zen/l.yaml",
    ])
    expected = [tmp_path / n for n in (
        "a.yaml", "b.yml", "c.yaml.j2", "d.yml.j2", "sub/deeper/h.yml", "sub/g.yaml"
    )]
    assert find_manifest_files([tmp_path]) == expected
    # Deduplicated and sorted whatever the order and overlap of the arguments.
    assert find_manifest_files([tmp_path / "sub", tmp_path, tmp_path / "a.yaml"]) == expected
    # A file named explicitly is taken as is, even if a search would skip it.
    explicit = [tmp_path / "notes.txt", tmp_path / "stackctl.yaml", tmp_path / ".zen/j.yaml"]
    assert find_manifest_files(explicit) == sorted(explicit)
    # A directory named explicitly is searched even if hidden.
    assert find_manifest_files([tmp_path / ".zen"]) == [tmp_path / ".zen/j.yaml"]
    assert find_manifest_files([]) == []


def test_discovery_of_a_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ManifestPathError, match="nope' does not exist") as caught:
        find_manifest_files([tmp_path, missing])
    assert caught.value.rule == "manifest-path"
    assert caught.value.location == Location(str(missing))
