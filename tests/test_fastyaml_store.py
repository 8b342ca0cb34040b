"""The fast YAML path for store files (yamlfast.fast_mapping) against ``yaml.load``.

Store files are read as ZenML reads them: ``yaml.load`` with the safe loader,
where a plain date is a ``date`` and a bare ``=`` an error (the manifest loader
keeps both as text). Differential, like tests/test_fastyaml.py: the fast path
either declines (None: libyaml then reads the file and locates any error) or
gives exactly what ``yaml.load`` gives, types included; it never takes a text
``yaml.load`` rejects.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fastyaml import FORMS, SCALARS, corpus_texts, documents, strict

from stackctl import yamlfast
from stackctl.errors import ConfigFileError, Location
from stackctl.stores import yamlio
from stackctl.stores.read_cache import ReadCache
from stackctl.yamlfast import fast_mapping

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check(text: str) -> bool:
    """Assert the fast path agrees with yaml.load on text; True if it took the text."""
    fast = fast_mapping(text)
    try:
        slow = yaml.load(text.encode(), Loader=LOADER)
    except (yaml.YAMLError, ValueError) as exc:  # a date out of range is a ValueError
        error = str(exc)
    else:
        error = ""
    assert not (error and fast is not None), f"took a text yaml.load rejects ({error}): {text!r}"
    if fast is None or error:
        return False
    assert strict(fast) == strict(slow), text
    return True


def test_every_corpus_text_agrees() -> None:
    taken = sum(check(text) for _, text in corpus_texts())
    assert taken > 50


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("form", FORMS)
def test_scalars_that_yaml_versions_read_differently(scalar: str, form: str) -> None:
    check(form.format(scalar))


def test_what_only_the_store_loader_reads_otherwise_is_declined() -> None:
    """Dates and '=' are text to the manifest loader, not to yaml.load."""
    for text in ["created: 2024-01-01\n", "at: 2024-01-01 10:00:00\n", "v: =\n",
                 "l: [2024-01-01]\n", "m: {k: 2024-01-01}\n", "a: '2024-01-01'\nb: 2024-01-01\n"]:
        assert fast_mapping(text) is None, text
        check(text)
    assert yamlio.parse_mapping(b"created: 2024-01-01\n", "f.yaml") == {
        "created": datetime.date(2024, 1, 1)}
    assert fast_mapping("created: '2024-01-01'\nv: '='\n") == {"created": "2024-01-01", "v": "="}


def test_one_document_only() -> None:
    for text in ["---\na: 1\n", "a: 1\n---\nb: 2\n", "a: 1\n---\n", "", "# only\n", "- a\n",
                 "x\n", "a: 1\n...\n"]:
        assert fast_mapping(text) is None, text
        check(text)
    assert fast_mapping("a: x---y\n") is None  # any '---' is left to libyaml
    assert fast_mapping("a: 1\nb: [x, {c: null}]\n") == {"a": 1, "b": ["x", {"c": None}]}


def test_a_large_file_is_taken() -> None:
    """No node cap applies to yaml.load: stacks.yaml of 10,000 components is plain text."""
    text = yamlio.dump({"stack_components": {"orchestrator": {
        f"orch-{i}": "local" for i in range(5000)}}}).decode()
    assert len(text) > yamlfast.MAX_CHARS
    assert check(text)


# Store files are written by yaml.dump (yamlio.dump): whatever it writes reads back alike.
_scalars = (st.sampled_from(SCALARS[:95]) | st.text(max_size=12) | st.integers()
            | st.floats() | st.booleans() | st.none()
            | st.datetimes().map(lambda d: d.isoformat()))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8) | st.sampled_from(SCALARS[:95]),
                                       inner, max_size=4), max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=10) | st.sampled_from(SCALARS[:95]), _json,
                       max_size=6))
def test_dumped_mappings_agree(data: dict[str, Any]) -> None:
    check(yamlio.dump(data).decode())


def test_zenml_shaped_store_files_take_the_fast_path() -> None:
    component = {"name": "artifacts-7", "uuid": "0c4358c1-ca41-4b0f-87ce-2309cf1201c3",
                 "path": "s3://ml-artifacts-3/zenml/7", "key": None, "secret": None,
                 "client_kwargs": {"endpoint_url": "http://minio-3.internal:9000",
                                   "region_name": "eu-west-1"}, "upload_threads": 4}
    stacks = {"stacks": {"default": {"orchestrator": "default"}},
              "users": [{"name": "default", "creation_date": "2026-12-01T10:09:38.188695"}],
              "active_stack_name": "default", "stack_component_flavors": []}
    for data in (component, stacks):
        assert check(yamlio.dump(data).decode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_agree(text: str) -> None:
    check(text)


def test_store_reads_use_the_fast_path_unless_turned_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"name: c\nconfig: {a: 1}\n")
    calls: list[str] = []

    def spy(text: str) -> dict[str, Any] | None:
        calls.append(text)
        return fast_mapping(text)

    monkeypatch.setattr(yamlfast, "fast_mapping", spy)
    with ReadCache(tmp_path / "cache.json", tmp_path) as cache:
        assert cache.read(path) == {"name": "c", "config": {"a": 1}}
    assert yamlio.read_mapping(path) == {"name": "c", "config": {"a": 1}}
    assert len(calls) == 2
    monkeypatch.setenv("STACKCTL_YAML_FAST", "0")
    assert yamlio.read_mapping(path) == {"name": "c", "config": {"a": 1}}
    assert len(calls) == 2


@pytest.mark.parametrize("text", [
    b"name: c\nconfig: [1\n", b"a: 1\nb: [\n", b"a: b: c\n", b"- a\n", b"a: \xff\n",
    b"a: 1\n---\nb: 2\n", b"a: !!python/name:os.system x\n", b"a: =\n", b"\ta: 1\n",
])
def test_broken_store_files_keep_their_located_errors(
        text: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(text)
    with pytest.raises(ConfigFileError) as fast_on:
        yamlio.read_mapping(path)
    monkeypatch.setenv("STACKCTL_YAML_FAST", "0")
    with pytest.raises(ConfigFileError) as fast_off:
        yamlio.read_mapping(path)
    assert str(fast_on.value) == str(fast_off.value)
    assert fast_on.value.location == fast_off.value.location
    assert fast_on.value.location is not None


@pytest.mark.parametrize(("given", "seen"), [(None, "0"), ("25", "25")])
def test_yaml_rs_allocator_returns_freed_memory_at_once(given: str | None, seen: str) -> None:
    """yaml_rs's mimalloc would keep a large parse's freed pages (+4 MiB on a plan's peak):
    its purge delay is 0 from before the library loads, unless the user set one."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MIMALLOC_PURGE_DELAY"}
    if given is not None:
        env["MIMALLOC_PURGE_DELAY"] = given
    probe = ("import os, sys\nfrom stackctl.yamlfast import fast_mapping\n"
             "assert 'yaml_rs' not in sys.modules\nfast_mapping('a: b\\n')\n"
             "assert 'yaml_rs' in sys.modules\nprint(os.environ['MIMALLOC_PURGE_DELAY'])\n")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == seen


@pytest.mark.parametrize("text", [b"created: 2026-02-30\n", b"n: " + b"1" * 5000 + b"\n"])
def test_a_value_yaml_load_cannot_build_is_a_clean_error(text: bytes, tmp_path: Path) -> None:
    """Not an internal error: a hand-edited date out of range, a number too long."""
    path = tmp_path / "c.yaml"
    path.write_bytes(text)
    with pytest.raises(ConfigFileError, match="Cannot read a value in this file") as err:
        yamlio.read_mapping(path)
    assert err.value.location == Location(str(path))
