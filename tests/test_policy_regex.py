"""Fast ``matches()`` on literal patterns (stackctl/policy/regex.py): exactly CEL's answers.

The differential tests put each pattern of the subset to CEL's own ``matches()``
(RE2, inside cel-expr-python) and to the translated Python pattern, over texts
chosen to tell the engines apart (a final newline, newlines inside, non-ASCII).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest

from stackctl.policy import regex
from stackctl.policy.engine import Engine

PATTERNS = [
    "^[a-z0-9-]+$", "^[a-z0-9]([-a-z0-9]*)$", "^s3://ml-.*", "orch$", "^(dev|staging|prod)$",
    "^[a-z][-a-z0-9]{0,8}[a-z0-9]$", r"\.internal$", "a.c", "^$", "", "a|", "(|x)y",
    "^[A-F0-9]{4}$", "x?y", "x+?y", "ab{2,}c", "(?:ab|cd)ef", "[.+*?()|$]", "^a", "b$",
    "[a-]x", "[-a]x", r"\-\.\\\/", "^ab{2}c{1,3}$", "^(a|b)(c|d)(e|f)(g|h)$", "x*",
]
TEXTS = [
    "", "a", "abc", "ok-name-1", "Bad", "orch", "orch\n", "a\norch", "dev", "dev\n", "prod",
    "staging", "s3://ml-bucket/x", "s3://other", "db.internal", "db.internal\n", "aXc",
    "a\nc", "é", "aé", "ABCD", "AB12", "abbc", "abbbbc", "abc\n", "y", "xy", "xxxy", "cdef",
    "-.\\/", "abbccc", "aceg", "bdfh", "+", "-x", "ax", "\n", "x" * 40,
]


@pytest.fixture(scope="module")
def cel_matches() -> Callable[[str, str], bool]:
    """CEL's own ``text.matches(pattern)``."""
    from cel_expr_python import cel

    program = cel.NewEnv(variables={"t": cel.Type.STRING, "p": cel.Type.STRING}).compile(
        "t.matches(p)")

    def matches(text: str, pattern: str) -> bool:
        value = program.eval(data={"t": text, "p": pattern})
        assert value.type() == cel.Type.BOOL, str(value)
        return bool(value.plain_value())

    return matches


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_translated_pattern_accepts_what_cel_accepts(
        pattern: str, cel_matches: Callable[[str, str], bool]) -> None:
    translated = regex.translate(pattern)
    assert translated is not None, pattern
    compiled = re.compile(translated)
    for text in TEXTS:
        assert (compiled.search(text) is not None) == cel_matches(text, pattern), (
            pattern, text)


def test_generated_patterns_agree_with_cel(cel_matches: Callable[[str, str], bool]) -> None:
    """Every short pattern over a small alphabet of the subset's pieces."""
    pieces = ["a", "b", ".", "[ab]", "^", "$", "a*", "b+", "a?", "(a|b)", "a{2}", "-"]
    texts = ["", "a", "b", "ab", "ba", "aab", "abb", "a\n", "\na", "-", "a-b", "aa\n", "bab"]
    checked = 0
    for size in (1, 2, 3):
        for combo in itertools.product(pieces, repeat=size):
            pattern = "".join(combo)
            translated = regex.translate(pattern)
            if translated is None:
                continue
            compiled = re.compile(translated)
            for text in texts:
                assert (compiled.search(text) is not None) == cel_matches(text, pattern), (
                    pattern, text)
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("pattern", [
    r"\d+", r"\w", r"\s", r"\bx", "[^a]", "a{,3}", "a{2", "a*+", "a++", "(ab)*", "(a)?",
    "(?i)a", "(?P<n>a)", "(?=a)", "[--a]", "[a-Z]", "[]a]", "[]", "[[:alpha:]]", "é", "a{1001}",
    "[a-z]+[0-9]+", "a*b*", "(a|b)(c|d)(e|f)(g|h)(i|j)", "{", "}", "]", "*a", "a)", "(a",
    "\\", "a" * 201,
])
def test_patterns_outside_the_subset_are_left_to_cel(pattern: str) -> None:
    assert regex.translate(pattern) is None


def test_rewrite_touches_only_calls_with_a_literal_outside_strings_and_comments() -> None:
    expression = ("a.matches('^x$') && 'b.matches(\"y\")' != '' && c . matches ( r'\\.z$' )"
                  " && d.matches(p) && e.matches('\\\\d') // f.matches('q')\n"
                  " && '''g.matches('r')''' != '' && h.matches(b'^s')")
    rewritten = regex.rewrite(expression, lambda literal: True)
    assert rewritten is not None
    assert rewritten.expression == expression.replace(
        "a.matches", f"a.{regex.FUNCTION}").replace(" matches ( r", f" {regex.FUNCTION} ( r")
    assert rewritten.patterns == {"^x$": r"\Ax\Z", r"\.z$": r"\.z\Z"}
    assert regex.rewrite(expression, lambda literal: False) is None
    assert regex.rewrite("object.kind == 'x'", lambda literal: True) is None


def _as_written(engine: Engine, rules: tuple[int, ...],
                objs: list[dict[str, Any]]) -> list[tuple[int, int, Any]]:
    """The rules one by one, as written (the engine's exact path)."""
    activation_env = engine._env
    found = []
    for index, obj in enumerate(objs):
        activation = activation_env.Activation({"object": obj, "oldObject": None})
        for position, rule in enumerate(rules):
            outcome = engine._one(engine._single[rule], activation)
            if not outcome.passed:
                found.append((index, position, outcome))
    return found


def test_fast_matches_gives_the_rules_own_outcomes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunked, with the fast function: the outcomes of the rules as written, for
    passing, failing and negated rules, texts too long for the fast path, a
    non-string and a missing field."""
    engine = Engine()
    rules = tuple(engine.add(e) for e in (
        "object.name.matches('^[a-z0-9-]+$')",
        "!object.name.matches('-x$')",
        "object.name.matches('^(a|b)') || object.name.size() > 3",
        "object.spec.path.matches('^s3://ml-.*')",
    ))
    assert all(regex.FUNCTION in engine._sources[r] for r in rules)
    calls: list[str] = []

    class Counting:
        def __init__(self, compiled: re.Pattern[str]) -> None:
            self.compiled = compiled

        def search(self, text: str) -> Any:
            calls.append(text)
            return self.compiled.search(text)

    patterns = engine._patterns
    for pattern, compiled in list(patterns.items()):
        monkeypatch.setitem(patterns, pattern, Counting(compiled))
    names: list[Any] = ["ok", "a-x", "Bad", "b", "c", "x" * (regex.MAX_TEXT + 1), "ab-x", 7]
    objs = [{"name": name, "spec": {"path": path}} if path else {"name": name, "spec": {}}
            for name, path in zip(names * 3, ["s3://ml-a", "", "s3://x", "s3://ml-b"] * 6,
                                  strict=False)]
    assert engine.failures_many(rules, objs) == _as_written(engine, rules, objs)
    assert calls  # the fast function did the work where it could


def test_a_pattern_cel_refuses_is_not_made_fast() -> None:
    engine = Engine()
    assert engine._certified("'^a$'")
    assert not engine._certified("'['")
    rule = engine.add("object.name.matches('^a$') || object.name.matches('[')")
    assert engine._sources[rule].count(regex.FUNCTION) == 1
