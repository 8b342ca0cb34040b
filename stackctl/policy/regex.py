"""``matches()`` with a literal pattern, compiled once, where Python's ``re`` is RE2.

cel-expr-python 0.1.3 compiles a ``matches()`` pattern with RE2 again on every
call (3-5 µs, more than most whole rules cost; bench/bench_policies.py), and
its standard functions cannot be replaced. So the engine evaluates a copy of a
rule set in which each call ``X.matches('literal')`` whose pattern lies in the
small subset below calls ``stackctlMatches``, a function of ours with the
pattern compiled once by Python's ``re``. Only that copy's plain ``true`` is
used; anything else (false, an error, a string too long for the fast path) is
evaluated again by the rules as written, so violations and error messages come
from CEL itself.

The subset is one where RE2 (CEL's ``matches``: a partial match, no flags) and
``re.search`` accept exactly the same strings, because every construct denotes
the same set of strings in both: ASCII literals and escaped punctuation; ``.``
(any character but a newline in both); classes of ASCII literals and ranges,
not negated; groups (plain or ``(?:``) and ``|``; ``^`` and ``$`` (RE2's ``$``
is the end of the text, written ``\\Z`` for ``re``, whose ``$`` also matches
before a final newline); quantifiers ``* + ? {n} {n,} {n,m}``, lazy or not, on a
single character or class, never on a group. ``\\d \\w \\s \\b``, flags, negated
classes, and everything else are left to CEL (Unicode vs ASCII classes differ).

RE2 runs in linear time and ``re`` backtracks, so the subset also bounds the
work: at most one quantifier that repeats a variable number of times, at most
16 ways through the alternations, and texts of at most ``MAX_TEXT`` characters
(a longer one is an error here, so CEL evaluates it): a search is then at most
quadratic in a short text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

FUNCTION = "stackctlMatches"
MAX_TEXT = 256
_REPEAT_LIMIT = 1000  # RE2's largest {n,m}
_MAX_PATTERN = 200
_MAX_CHOICES = 16  # ways through the alternations that ``re`` may try at one place

_IDENT = re.compile(r"[A-Za-z_0-9]+")
_SPACE = re.compile(r"\s*")
_STRING_PREFIXES = {"r", "R", "b", "B", "rb", "rB", "Rb", "RB", "br", "bR", "Br", "BR"}
# A character standing for itself, outside and inside a class
_LITERAL = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
               "_-/:@,=%&~'\"!<>;# `")
_CLASS_LITERAL = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                     "_/:@,=%.+*?()|$")
_ESCAPABLE = set(".^$*+?()[]{}|\\/-")
_CEL_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}


def translate(pattern: str) -> str | None:
    """The ``re`` pattern accepting what RE2 accepts for ``pattern``, or None when
    the pattern is outside the subset (or not a pattern at all)."""
    try:
        out, position, variable = _Parser(pattern).alternation(0, 0)
    except _OutsideError:
        return None
    return out if position == len(pattern) and variable <= 1 else None


class _OutsideError(Exception):
    """The pattern is outside the subset."""


@dataclass
class _Parser:
    text: str
    choices: int = 1  # product of the alternations' branch counts

    def __post_init__(self) -> None:
        if len(self.text) > _MAX_PATTERN:
            raise _OutsideError

    def alternation(self, at: int, depth: int) -> tuple[str, int, int]:
        """(``re`` text, position after it, variable quantifiers in it)."""
        parts: list[str] = []
        variable = 0
        while True:
            part, at, more = self.branch(at, depth)
            parts.append(part)
            variable += more
            if at < len(self.text) and self.text[at] == "|":
                at += 1
                continue
            self.choices *= len(parts)
            if self.choices > _MAX_CHOICES:
                raise _OutsideError
            return "|".join(parts), at, variable

    def branch(self, at: int, depth: int) -> tuple[str, int, int]:
        text = self.text
        out: list[str] = []
        variable = 0
        while at < len(text) and text[at] not in "|)":
            char = text[at]
            repeatable = True
            if char == "(":
                if depth >= 10:
                    raise _OutsideError
                start = at + 3 if text.startswith("(?:", at) else at + 1
                if text.startswith("(?", at) and start == at + 1:
                    raise _OutsideError  # flags, named groups, lookarounds
                inner, at, more = self.alternation(start, depth + 1)
                if at >= len(text) or text[at] != ")":
                    raise _OutsideError
                out.append(f"(?:{inner})")
                variable += more
                at += 1
                repeatable = False
            elif char == "[":
                piece, at = self.char_class(at + 1)
                out.append(piece)
            elif char == "\\":
                if at + 1 >= len(text) or text[at + 1] not in _ESCAPABLE:
                    raise _OutsideError
                out.append(re.escape(text[at + 1]))
                at += 2
            elif char == ".":
                out.append(".")
                at += 1
            elif char == "^":
                out.append(r"\A")
                at += 1
                repeatable = False
            elif char == "$":
                out.append(r"\Z")
                at += 1
                repeatable = False
            elif char in _LITERAL:
                out.append(re.escape(char))
                at += 1
            else:
                raise _OutsideError  # quantifier with nothing to repeat, braces, non-ASCII
            quantifier, at, varies = self.quantifier(at)
            if quantifier and not repeatable:
                raise _OutsideError
            out.append(quantifier)
            variable += varies
        return "".join(out), at, variable

    def char_class(self, at: int) -> tuple[str, int]:
        """The class as ``re`` text and the position after its ``]``, from just after ``[``."""
        text = self.text
        members: list[str] = []
        if at < len(text) and text[at] in "^]":
            raise _OutsideError
        while at < len(text) and text[at] != "]":
            low, at = self.class_char(at)
            if text.startswith("-", at) and at + 1 < len(text) and text[at + 1] != "]":
                high, at = self.class_char(at + 1)
                if not (low.isalnum() and high.isalnum()) or ord(high) < ord(low):
                    raise _OutsideError  # only ranges of letters or digits: a-z, 0-9, A-F
                members.append(f"{re.escape(low)}-{re.escape(high)}")
            else:
                members.append(re.escape(low))
        if at >= len(text) or not members:
            raise _OutsideError
        return "[" + "".join(members) + "]", at + 1

    def class_char(self, at: int) -> tuple[str, int]:
        text = self.text
        char = text[at]
        if char == "\\":
            if at + 1 >= len(text) or text[at + 1] not in _ESCAPABLE:
                raise _OutsideError
            return text[at + 1], at + 2
        if char == "-" and ((at + 1 < len(text) and text[at + 1] == "]")
                            or text[at - 1] == "["):
            return char, at + 1  # a '-' first or last in the class is itself
        if char not in _CLASS_LITERAL:
            raise _OutsideError
        return char, at + 1

    def quantifier(self, at: int) -> tuple[str, int, int]:
        """(the quantifier as ``re`` text, position after it, 1 if it varies)."""
        text = self.text
        if at >= len(text) or text[at] not in "*+?{":
            return "", at, 0
        if text[at] == "{":
            found = re.compile(r"\{(\d{1,4})(,(\d{0,4}))?\}").match(text, at)
            if found is None:
                raise _OutsideError  # RE2 and re read a malformed brace differently
            low = int(found.group(1))
            high = low if found.group(2) is None else (
                int(found.group(3)) if found.group(3) else None)
            if low > _REPEAT_LIMIT or (high is not None and (high < low
                                                             or high > _REPEAT_LIMIT)):
                raise _OutsideError
            quantifier, at, varies = found.group(0), found.end(), int(high != low)
        else:
            quantifier, at, varies = text[at], at + 1, 1
        if at < len(text) and text[at] == "?":
            quantifier, at = quantifier + "?", at + 1
        if at < len(text) and text[at] in "*+?{":
            raise _OutsideError  # possessive in re, an error in RE2
        return quantifier, at, varies


@dataclass(frozen=True)
class Rewritten:
    expression: str  # the expression with the fast call sites renamed
    patterns: dict[str, str]  # CEL pattern → ``re`` pattern


def rewrite(expression: str, certified: Callable[[str], bool]) -> Rewritten | None:
    """The expression with each ``.matches(<literal in the subset>)`` calling
    ``FUNCTION`` instead; None if there is no such call. ``certified(literal)``
    says whether CEL's own RE2 accepts the pattern (source text of the literal)."""
    out: list[str] = []
    patterns: dict[str, str] = {}
    done = 0
    at = 0
    text = expression
    while at < len(text):
        char = text[at]
        if char in "'\"":
            at = _string_end(text, at, raw=False)
        elif char == "/" and text.startswith("//", at):
            newline = text.find("\n", at)
            at = len(text) if newline < 0 else newline
        elif _IDENT.match(char):
            word = _IDENT.match(text, at)
            assert word is not None
            at = word.end()
            if word.group() in _STRING_PREFIXES and at < len(text) and text[at] in "'\"":
                at = _string_end(text, at, raw="r" in word.group().lower())
        elif char == ".":
            site = _call_site(text, at + 1)
            at += 1
            if site is None:
                continue
            name_at, literal_start, literal_end, end = site
            pattern = _decode(text[literal_start:literal_end])
            translated = None if pattern is None else translate(pattern)
            if translated is not None and certified(text[literal_start:literal_end]):
                out.append(text[done:name_at] + FUNCTION)
                done = name_at + len("matches")
                patterns[pattern] = translated  # type: ignore[index]
            at = end
        else:
            at += 1
    if not patterns:
        return None
    out.append(text[done:])
    return Rewritten("".join(out), patterns)


def _call_site(text: str, at: int) -> tuple[int, int, int, int] | None:
    """After a '.': ``matches ( LITERAL )`` → (where ``matches`` starts, the literal's
    start and end, the end of the call), else None."""
    name_at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
    word = _IDENT.match(text, name_at)
    if word is None or word.group() != "matches":
        return None
    at = _SPACE.match(text, word.end()).end()  # type: ignore[union-attr]
    if not text.startswith("(", at):
        return None
    literal_start = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    prefix = _IDENT.match(text, literal_start)
    quote_at = prefix.end() if prefix else literal_start
    if quote_at >= len(text) or text[quote_at] not in "'\"" or (
            prefix and prefix.group() not in ("r", "R")):
        return None
    literal_end = _string_end(text, quote_at, raw=prefix is not None)
    end = _SPACE.match(text, literal_end).end()  # type: ignore[union-attr]
    if not text.startswith(")", end):
        return None
    return name_at, literal_start, literal_end, end + 1


def _string_end(text: str, at: int, raw: bool) -> int:
    """The position after the string literal whose quote is at ``at``."""
    quote = text[at] * 3 if text.startswith(text[at] * 3, at) else text[at]
    at += len(quote)
    while at < len(text):
        if text.startswith(quote, at):
            return at + len(quote)
        at += 2 if text[at] == "\\" and not raw else 1
    return len(text)  # unterminated: CEL has already refused it


def _decode(literal: str) -> str | None:
    """The value of a one-line string literal (``'…'``, ``"…"``, ``r'…'``) with only
    the escapes of quotes and backslashes, else None."""
    raw = literal[:1] in "rR"
    body = literal[1:] if raw else literal
    quote = body[:1]
    if len(body) < 2 or body[-1] != quote or body.startswith(quote * 3):
        return None
    body = body[1:-1]
    if raw:
        return body
    out: list[str] = []
    at = 0
    while at < len(body):
        char = body[at]
        if char == "\\":
            escaped = _CEL_ESCAPES.get(body[at + 1:at + 2])
            if escaped is None:
                return None
            out.append(escaped)
            at += 2
        else:
            out.append(char)
            at += 1
    return "".join(out)
