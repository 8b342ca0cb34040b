"""The fast YAML path (stackctl/yamlfast.py) against the libyaml loader.

Differential: on every YAML text of tests/cases and on generated documents, the
fast path either declines (None: the libyaml loader then runs, with its located
errors) or gives exactly the documents the libyaml loader gives — same indexes,
positions and values, types included (``True`` is not ``1``, ``1`` not ``1.0``).
It never takes a text the libyaml loader rejects.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackctl import yamlfast
from stackctl.compiler.load import ManifestError, compose_documents, decode_utf8, load_text
from stackctl.yamlfast import fast_documents

CASES = Path(__file__).parent / "cases"
PATH = Path("m.yaml")


def strict(value: Any) -> Any:
    """A form where equality also means same types (and NaN equals NaN)."""
    if isinstance(value, dict):
        return ("dict", [(strict(k), strict(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [strict(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def check(text: str) -> bool:
    """Assert the fast path agrees with libyaml on text; True if it took the text."""
    fast = fast_documents(text)
    try:
        slow = compose_documents(text, PATH)
    except ManifestError as exc:
        error = str(exc)
    else:
        error = ""
    assert not (error and fast is not None), f"took a text libyaml rejects ({error}): {text!r}"
    if fast is None or error:
        return False
    got = [(i, line, col, strict(data)) for i, line, col, data in fast]
    want = [(d.index, d.line, d.column, strict(d.data)) for d in slow]
    assert got == want, text
    return True


def corpus_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted(CASES.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".j2", ".expected"):
            try:
                texts.append((str(path.relative_to(CASES)),
                              decode_utf8(path.read_bytes(), path).removeprefix("\ufeff")))
            except ManifestError:
                continue  # not UTF-8: never reaches either path
    return texts


def test_every_corpus_text_agrees_and_most_manifests_take_the_fast_path() -> None:
    texts = corpus_texts()
    taken = sum(check(text) for _, text in texts)
    assert len(texts) > 200
    valid = [t for name, t in texts if name.startswith("valid/") and not name.endswith(".j2")]
    assert sum(fast_documents(t) is not None for t in valid) > len(valid) // 2
    assert taken > 50


# Plain scalars where YAML 1.1 (the loader) and 1.2 (the fast parser) may differ.
SCALARS = [
    "yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "true", "True", "TRUE",
    "tRue", "false", "FALSE", "null", "Null", "NULL", "nUll", "~", "", "inf", "nan",
    "Infinity", "NaN", ".inf", "-.inf", "+.inf", ".Inf", ".NaN", ".nan", "1e3", "1E3",
    "1.5e3", "1.0e+3", "1.0E-3", "-1.5e+3", "0o10", "0O10", "010", "09", "0", "-0", "+0",
    "00", "0x1F", "0X1F", "-0x1F", "0b11", "-0b11", "1_000", "1__0", "+5", "-5", "12:30",
    "-12:30", "1:20:30.5", "190:20:30", ".5", "-.5", "+.5", "1.", "-1.", "1.5", "01.5",
    "1_0.5", "2024-01-01", "2024-1-1", "2024-01-01T10:00:00Z", "2024-01-01 10:00:00",
    "=", "<<", "127.0.0.1", "3.11", "3.11.2", "1Gi", "12345678901234567890",
    "123456789012345678", "1.7976931348623157e+308", "4" * 5000, "0.1234567890123456789",
    "-", "--", ".", "+", "-x", "a: b", "foo bar", "s3://ml-bucket/x", "#x",
]


# The places a scalar can stand in a document.
FORMS = ["value: {}\n", "{}: value\n", "list:\n- {}\n", "flow: [{}, 1]\n", "flow: {{k: {}}}\n",
         "q: '{}'\n", 'q: "{}"\n']


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("form", FORMS)
def test_scalars_that_yaml_versions_read_differently(scalar: str, form: str) -> None:
    check(form.format(scalar))


def test_the_fast_path_declines_what_only_the_loader_checks() -> None:
    for text in ["a: &x 1\nb: *x\n", "a: !!str 1\n", "<<: {a: 1}\nb: 2\n", "a: 1\na: 2\n",
                 "on: 1\n", "1: a\n", "a: [1\n", "- a\n", "just text\n", "%YAML 1.1\n---\na: 1\n",
                 "a: 1\n...\n", "\ta: b\n", "a: \x07\n", "a: b\r\nc: d\r\n", "a: 'x\\y'\n",
                 "a: " + "[" * 80 + "]" * 80 + "\n", "k" * 1100 + ": v\n", "{>}", ":: |\n",
                 "a: @x\n", "a: `x`\n",
                 "a: " + "x " * 30_000 + "\n", "a:\n" + "".join(
                     "  " * i + f"k{i}:\n" for i in range(1, 80)) + "  " * 80 + "v: 1\n"]:
        assert fast_documents(text) is None, text
        check(text)


def test_documents_positions_and_null_documents() -> None:
    texts = [
        "a: 1\n", "---\na: 1\n", "# c\n\n  # d\n---\n\n  a: 1\n", "a: 1\n---\n", "---\n---\n",
        "a: 1\n---\nb: 2\n--- \n\n# x\nc: 3\n", "---\n~\n---\na: 1\n", "", "# only\n",
        "a: 1\n---\n- x\n", "   a: 1\n   b: 2\n", "{a: 1, b: [x, y]}\n", "? a\n: b\n",
        "a: |\n  x\n  y\n", "a: >-\n  x\n\n  y\n", "a: |+\n  x\n\n", "a: 'x\n\n  y'\n",
        'a: "x\n  y"\n', "a: x\n  y\n  z\n", "a: b # c\n", "a: b#c\n", "a:\n", "a: ''\n",
        "---\n---x: 1\n", "a: ---\n",
    ]
    for text in texts:
        check(text)
    assert fast_documents("# c\n---\n\n  a: 1\n---\n---\nb: 2\n") == [
        (0, 4, 3, {"a": 1}), (2, 7, 1, {"b": 2})]


def test_quoted_strings_that_look_like_other_types_are_taken_unless_also_plain() -> None:
    assert fast_documents('tier: "1"\nflag: \'on\'\n"no": x\n') == [
        (0, 1, 1, {"tier": "1", "flag": "on", "no": "x"})]
    for text in ['a: "1"\nb: 1\n', 'a: "on"\nb: on\n', "on: x\n", "k: |\n  on\n",
                 'k: ["null", null]\n', "? 2001-12-14\n  21:59:43.10 -5\n: v\n"]:
        assert fast_documents(text) is None, text
        check(text)


def test_load_text_uses_the_fast_path_and_keeps_locating_errors() -> None:
    text = "apiVersion: stackctl/v1\nkind: Component\nmetadata:\n  name: x\n"
    assert fast_documents(text) is not None
    [doc] = load_text(text, PATH)
    assert doc.locate(("metadata", "name")).line == 4  # recomposed by libyaml on demand
    with pytest.raises(ManifestError) as err:
        load_text("a: 1\na: 2\n", PATH)
    assert (err.value.location.line, err.value.location.column) == (2, 1)


def test_stackctl_yaml_fast_0_turns_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(yamlfast, "fast_documents", calls.append)
    load_text("a: 1\n", PATH)
    assert calls == ["a: 1\n"]
    monkeypatch.setenv("STACKCTL_YAML_FAST", "0")
    assert load_text("a: 1\n", PATH)[0].data == {"a": 1}
    assert calls == ["a: 1\n"]


# Generated documents: manifest-like mappings with awkward scalars, in block or flow
# style, plain or quoted.
_safe = st.from_regex(r"[a-z][a-z0-9_-]{0,8}|[1-9][0-9]{0,4}|[0-9]\.[0-9]{1,3}|true|null",
                      fullmatch=True)
_awkward = st.sampled_from(SCALARS[:95]) | st.text(
    alphabet="abcxyz019.:-+_ /#'\"eEoOxX~", min_size=0, max_size=8) | _safe


def _scalar(word: str, style: str) -> str:
    if style == "single":
        return "'" + word.replace("'", "''") + "'"
    if style == "double":
        return '"' + word.replace('"', "") + '"'
    return word


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines: list[str] = []
    # Mostly ordinary words (the fast path takes those), or awkward ones.
    _words = draw(st.sampled_from([_safe, _safe, _awkward]))
    keys = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True) if _words is _safe else _words

    def block(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 4))):
            key = _scalar(draw(keys), draw(st.sampled_from(["plain", "single"])))
            kind = draw(st.sampled_from(["scalar", "scalar", "map", "seq", "flow"]))
            pad = " " * indent
            if kind == "map" and depth < 3:
                lines.append(f"{pad}{key}:")
                block(indent + 2, depth + 1)
            elif kind == "seq":
                lines.append(f"{pad}{key}:")
                for _ in range(draw(st.integers(1, 3))):
                    word = _scalar(draw(_words), draw(st.sampled_from(["plain", "double"])))
                    lines.append(f"{pad}- {word}")
            elif kind == "flow":
                items = ", ".join(draw(st.lists(_words.filter(lambda w: w and not set(w) & set(
                    ",:#[]{}'\"")), min_size=0, max_size=3)))
                lines.append(f"{pad}{key}: [{items}]")
            else:
                style = draw(st.sampled_from(["plain", "plain", "single", "double"]))
                lines.append(f"{pad}{key}: {_scalar(draw(_words), style)}")

    for number in range(draw(st.integers(1, 3))):
        if number or draw(st.booleans()):
            lines.append("---")
        block(draw(st.sampled_from([0, 0, 2])), 0)
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_agree(text: str) -> None:
    check(text)


_PIECES = ["---\n", "...\n", "a: ", "- ", "? ", ": ", "\n", "  ", "x", "1", "on", "[", "]",
           "{", "}", ", ", "#c", '"q"', "'s'", "|\n", ">-\n", "null", "~"]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab01.:-+ \n#'\"[]{},~|>?onyeE@`%\t\u00e9=<&*!", max_size=60)
       | st.lists(st.sampled_from(_PIECES), max_size=20).map("".join))
def test_arbitrary_short_texts_agree(text: str) -> None:
    check(text)


def test_caches_stay_bounded() -> None:
    for i in range(5000):
        yamlfast._string_alike(f"t{i}")
        yamlfast._token_alike(f"{i}.{i}.{i}")
    assert len(yamlfast._SAFE_STRINGS) <= 4096
    assert len(yamlfast._TOKENS_ALIKE) <= 4096


def test_compile_turns_the_cyclic_gc_off_while_it_runs_and_restores_it(tmp_path: Path) -> None:
    import gc

    from stackctl.compiler.compile import compile_manifests
    from stackctl.compiler.project import Inputs

    (tmp_path / "m.yaml").write_text("apiVersion: stackctl/v1\nkind: Profile\n"
                                     "metadata: {name: p}\nspec: {}\n")
    seen: list[bool] = []
    original = yamlfast.fast_documents

    def spy(text: str) -> Any:
        seen.append(gc.isenabled())
        return original(text)

    yamlfast.fast_documents = spy
    try:
        assert gc.isenabled()
        assert compile_manifests(Inputs(paths=(str(tmp_path),)), tmp_path, {}).ok
        assert seen == [False]
        assert gc.isenabled()
        gc.disable()
        compile_manifests(Inputs(paths=(str(tmp_path),)), tmp_path, {})
        assert not gc.isenabled()
    finally:
        gc.enable()
        yamlfast.fast_documents = original
