"""The fast emitter of store files writes exactly what ``yaml.dump`` writes, or declines.

ZenML 0.10 reads these files, and a plan compares their bytes: any difference from
``yaml.dump`` (quoting, order, indentation, folding) is a bug. Every value here is
dumped both ways; the emitter may return None (then yaml.dump is used), never
other bytes. The common shapes of store files must take the fast path.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stackctl.stores import yamlemit, yamlio

# strings YAML 1.1 reads as something else, indicators, and the usual names and URLs
LOOKALIKES = [
    "", " ", "a b", " x", "x ", "on", "On", "ON", "off", "yes", "no", "y", "n", "Y", "true",
    "False", "null", "Null", "~", "NULL", "123", "0123", "010", "0x1f", "0o17", "0b101",
    "1_000", "1:20", "1:20:30", "190:20:30.15", "1e3", "1.0e+3", "1.5", ".5", "5.", ".inf",
    "-.inf", ".nan", ".NaN", "+1", "-1", "-", "--", "---", "...", "...x", "2001-12-14",
    "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "=", "<<", "a:", "a:b",
    "a: b", "a #b", "a#b", "#a", "@a", "a@b", "%a", "a%", "!a", "&a", "*a", "|a", ">a", "'a",
    'a"', "a'b", "[a]", "{a}", "a,b", "?a", "? a", "-a", "- a", ":a", "a\nb", "a\tb", "é",
    "naïve", "\u2028", "\x00", "\x7f", "x" * 79, "x" * 81, "x" * 127, "x" * 128, "x" * 200,
    "s3://ml-artifacts-1/zenml/1", "http://minio-1.internal:9000", "/tmp/zenml/artifacts",
    "./data", "../data", "gcr.io/project/image:tag", "user@example.com", "$HOME/x",
    "a=b", "a+b", "a~b", "a/b.c_d-e", "0.0.0.0", "1.2.3", "v1.2", "12abc", "abc12", "_",
    "__init__", "TRUE", "Yes", "nO", "oN", "NaN", "inf", "0", "00", "-0", "1_0", "0.1e1",
    "sqlite:////tmp/x.db", "mysql://u@h:3306/db", "k8s-context", "eu-west-1",
    "f7aa4443-f0f4-4789-a047-51ce34a3cd9e",
]

# characters that matter to YAML, drawn often
ALPHABET = st.sampled_from([*"aZ09_-./:@%+=~$ #'\"!&*|>?,[]{}\n\té<", "ab", "on", "1"])
TEXTS = st.one_of(st.sampled_from(LOOKALIKES), st.lists(ALPHABET, max_size=12).map("".join))
SCALARS = st.one_of(TEXTS, st.none(), st.booleans(), st.integers(),
                    st.floats(allow_nan=True, allow_infinity=True))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TEXTS, inner, max_size=5)),
    max_leaves=20)
DOCUMENTS = st.dictionaries(TEXTS, VALUES, max_size=8)
# mostly what the emitter takes: near misses of the plain scalars it writes itself
NEAR = st.one_of(st.sampled_from([t for t in LOOKALIKES if " " not in t]),
                 st.lists(st.sampled_from([*"aZ09_-./:@%+=~$#,[]{}&*!|>\"`?\\", "on", "1", "e"]),
                          max_size=10).map("".join))
NEAR_VALUES = st.recursive(
    st.one_of(NEAR, st.none(), st.booleans(), st.integers(), st.floats(-1e6, 1e6)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(NEAR, inner, max_size=5)),
    max_leaves=20)
NEAR_DOCUMENTS = st.dictionaries(NEAR, NEAR_VALUES, max_size=8)


def _pyyaml(data: Any, *, sort_keys: bool = True) -> str:
    text: str = yaml.dump(data, Dumper=yaml.CSafeDumper, default_flow_style=False,
                          sort_keys=sort_keys)
    return text


def _same_or_declined(data: Any, *, sort_keys: bool = True) -> bool:
    fast = yamlemit.emit(data, sort_keys=sort_keys)
    if fast is not None:
        assert fast == _pyyaml(data, sort_keys=sort_keys), data
    return fast is not None


@settings(max_examples=600, deadline=None)
@given(DOCUMENTS, st.booleans())
def test_generated_documents_are_dumped_as_pyyaml_does(data: dict[str, Any],
                                                       sort_keys: bool) -> None:
    _same_or_declined(data, sort_keys=sort_keys)


@settings(max_examples=600, deadline=None)
@given(NEAR_DOCUMENTS, st.booleans())
def test_near_misses_of_plain_scalars_are_dumped_as_pyyaml_does(data: dict[str, Any],
                                                                 sort_keys: bool) -> None:
    _same_or_declined(data, sort_keys=sort_keys)


@pytest.mark.parametrize("text", LOOKALIKES)
def test_every_lookalike_string_as_key_value_and_list_item(text: str) -> None:
    for data in ({"k": text}, {text: 1}, {"k": [text, {text: text}]}, {"k": {"n": text}}):
        _same_or_declined(data)


def test_the_shapes_of_store_files_take_the_fast_path() -> None:
    component = {"client_kwargs": {"endpoint_url": "http://minio-1.internal:9000",
                                   "region_name": "eu-west-1"},
                 "config_kwargs": None, "key": None, "name": "artifacts-1",
                 "path": "s3://ml-artifacts-1/zenml/1", "secret": None,
                 "uuid": "f7aa4443-f0f4-4789-a047-51ce34a3cd9e", "port": 3306,
                 "upgrade_migration_enabled": True, "timeout": 1.5, "empty": "",
                 "numeric_name": "123", "labels": ["a", "on", "x/y"]}
    stacks = {"projects": [], "team_assignments": {}, "stack_component_flavors": [
                  {"integration": None, "name": "custom", "source": "my.mod.Flavor",
                   "type": "orchestrator"}],
              "stack_components": {"orchestrator": {"default": "local", "orch-0": "kubeflow"}},
              "stacks": {"default": {"artifact_store": "default", "orchestrator": "default"}},
              "users": [{"creation_date": "2026-12-01T10:00:00.123456",
                         "id": "f7aa4443-f0f4-4789-a047-51ce34a3cd9e", "name": "default"}]}
    for data in (component, stacks, {"pipeline_runs": {}}, {}):
        assert _same_or_declined(data), data
        assert _same_or_declined(data, sort_keys=False), data
        assert yamlio.dump(data) == _pyyaml(data).encode()


def test_what_it_declines_still_dumps_through_pyyaml() -> None:
    shared: dict[str, Any] = {"a": 1}
    for data in ({"k": "a b"}, {"k": "naïve"}, {"k": [[1, 2]]}, {"a": shared, "b": shared},
                 {1: "int key"}, {"k": 1e-5}, {"k": float("nan")},
                 {"k": ("tuple",)}, {"k" * 130: 1}, ["top", "list"], "top string"):
        assert yamlemit.emit(data) is None, data
        try:
            expected = _pyyaml(data).encode()
        except yaml.YAMLError:
            continue
        assert yamlio.dump(data) == expected


def test_a_list_and_an_empty_mapping_met_twice_are_declined() -> None:
    empty: dict[str, Any] = {}
    items: list[Any] = []
    assert yamlemit.emit({"a": empty, "b": empty}) is None
    assert yamlemit.emit({"a": items, "b": {"c": items}}) is None
    assert "&id001" in _pyyaml({"a": empty, "b": empty})
