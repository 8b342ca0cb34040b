"""A fast path for loading plain YAML text, with exactly the loaders' results.

Shared by the manifest loader (:func:`fast_documents`, against
``stackctl.compiler.load``) and the store reads (:func:`fast_mapping`, against
``yaml.load`` with the safe loader in ``stackctl.stores.yamlio``); it imports
neither, so the stores stay below the compiler. It also holds the YAML 1.1
reading of a plain scalar both the manifest loader and the fast path use
(:func:`plain_scalar`).

``yaml_rs`` (a Rust YAML 1.2 parser that builds Python values directly) is about
six times faster than composing with libyaml and constructing in Python. But
YAML 1.2 reads some plain scalars differently from the YAML 1.1 that PyYAML
(and so stackctl's loader, and ZenML) resolves: ``on``, ``yes``, ``0o10``,
``010``, ``1e3``, ``1_000``... A manifest must mean what it always meant, so
:func:`fast_documents` takes a text only where both readings are provably the
same, and otherwise returns ``None``: the caller then loads the text with
libyaml as before, which also gives every error its line and column. The fast
path never reports an error itself.

It declines (returns ``None``) when the text holds:

- anything the loader checks for or rejects that the fast parser would not:
  tags (``!``), anchors and aliases (``&``, ``*``), merge keys (``<``), directives
  (``%``), block scalars (``|``, ``>``), the reserved ``@`` and backtick, ``...``,
  ``---`` with content on its line, tabs, backslashes (escapes), CR/NEL/LS/PS line
  breaks, a BOM, characters YAML forbids, lines of 1,000 characters or more
  (libyaml's implicit key limit) or more than 40,000 characters (so the
  100,000-node cap cannot be reached);
- a value that YAML 1.1 would read as something else: a string (key or value)
  that a *plain* scalar of the same text would resolve to a bool, int, float,
  null or merge key in YAML 1.1, unless it holds no whitespace and the text
  holds it nowhere as a plain scalar could be (then it was quoted: ``"on"``);
  and, if a number was read, every number-like token of the text whose 1.1 and
  1.2 readings differ;
- anything the fast parser refuses (syntax, duplicate keys, depth), a document
  that is not a mapping, a non-string key, or nesting over 64 levels.

The store loader (``yaml.load``) also makes dates of plain timestamps and
refuses a bare ``=``: :func:`fast_mapping` declines those values as well.

``tests/test_fastyaml.py`` checks both against their libyaml loaders document by
document, on the test corpora and on generated documents.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any, Final

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

MAX_CHARS: Final = 40_000
MAX_DEPTH: Final = 64

# One character-class search (fast in re) finds what the fast path leaves to
# libyaml: tabs, CR, escapes, anchors, aliases, tags, merge keys ("<<"),
# directives ("%"), the reserved "@" and "`", block scalars ("|", ">": yaml-rs keeps
# a newline in an empty one, and reads "{>}" as text), NEL/LS/PS line breaks, a BOM,
# and the characters YAML forbids (the complement of PyYAML's reader's printable
# set, yaml.reader.Reader.NON_PRINTABLE).
_DECLINE: Final = re.compile(
    "[\t\r\\\\&*!<%@`|>\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\ud800-\udfff\ufffe\uffff\u2028\u2029\ufeff]")
_LONG_LINE: Final = re.compile(r"^[^\n]{1000}", re.MULTILINE)  # tried at line starts only
_MARKER: Final = re.compile(r"^---[ ]*(?:\n|\Z)", re.MULTILINE)
_OTHER_MARKER: Final = re.compile(r"^---(?![ ]*(?:\n|\Z))", re.MULTILINE)
# Number-like tokens where a plain scalar may start (after a space, a flow
# indicator or ":"; the text is searched with a newline in front): a digit, or a
# sign or dot followed by something.
_TOKEN: Final = re.compile(r"[\s\[{,:]((?:[0-9]|[-+.][^\s,\[\]{}])[^\s,\[\]{}]*)")
# Tokens both YAML versions read alike: short decimal integers and decimals, and
# canonical UUIDs (a string in both: hyphens between hex groups match no int, float or
# timestamp pattern of either). Every ZenML file holds a uuid, most start with a digit,
# and each is unique: without this, each was parsed twice and filled _TOKENS_ALIKE.
_SIMPLE: Final = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,15})?"
                            r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CONTENT: Final = re.compile(r"^[ ]*[^ \n#]", re.MULTILINE)


_Y: Final = "tag:yaml.org,2002:"
_SAFE: Final = SafeConstructor()
_RESOLVER: Final = Resolver()
# How the manifest loader constructs a plain scalar's YAML 1.1 tag (str aside).
SCALARS: Final[dict[str, Callable[[ScalarNode], Any]]] = {
    _Y + "int": _SAFE.construct_yaml_int,
    _Y + "float": _SAFE.construct_yaml_float,
    _Y + "bool": _SAFE.construct_yaml_bool,
    _Y + "null": _SAFE.construct_yaml_null,
    # Manifests hold JSON-like values: a date stays the text it was written as,
    # and a bare "=" (YAML 1.1's unconstructible value tag) is just text.
    _Y + "timestamp": _SAFE.construct_scalar,
    _Y + "value": _SAFE.construct_scalar,
}


def plain_scalar(text: str) -> Any:
    """What the manifest loader makes of a plain (unquoted) scalar of this text.

    Raises ValueError where it makes no value of it (a merge key, a number too long).
    """
    tag: str = _RESOLVER.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if tag == _Y + "str":
        return text
    construct = SCALARS.get(tag)
    if construct is None:
        raise ValueError(f"{tag} is no value")
    return construct(ScalarNode(tag, text))


def _risky_patterns(*keep: str) -> dict[str, re.Pattern[str]]:
    """Per first character, the YAML 1.1 patterns of the tags keep (PyYAML's own
    resolver, the one the loaders use), joined into one."""
    table: dict[str, re.Pattern[str]] = {}
    for first, resolvers in Resolver.yaml_implicit_resolvers.items():
        patterns = [p for tag, p in resolvers if tag.rsplit(":", 1)[-1] in keep]
        if patterns:
            table[first] = re.compile("|".join(
                f"(?{'x' if p.flags & re.VERBOSE else ''}:{p.pattern})" for p in patterns))
    return table


# A plain value that resolves to a timestamp or "=" stays its text in the manifest
# loader; as a key (and as any value in a store file), any tag but str is refused.
_RISKY: Final = _risky_patterns("bool", "int", "float", "null", "merge")
_RISKY_KEY: Final = _risky_patterns("bool", "int", "float", "null", "merge", "timestamp",
                                    "value")
_SAFE_STRINGS: set[str] = set()  # values seen to be strings in both readings
_SAFE_KEYS: set[str] = set()  # keys (and store values) seen to be strings in both
_TOKENS_ALIKE: dict[str, bool] = {}  # number-like token -> both readings equal


def fast_documents(text: str) -> list[tuple[int, int, int, dict[str, Any]]] | None:
    """(index, line, column, data) of each non-null document of text, or None.

    ``text`` is already decoded, without its BOM. Indexes count null documents
    too; line and column (1-based) are where the document's root node starts.
    None means: load it with libyaml (an error, or not provably the same).
    """
    if len(text) > MAX_CHARS or not _plain_text(text):
        return None
    if "---" in text:
        if _OTHER_MARKER.search(text):
            return None
        pieces = _pieces(text)
    else:
        pieces = [(text, 1, False)]
    loads = _parser()
    documents: list[tuple[int, int, int, dict[str, Any]]] = []
    seen = _Seen(_SAFE_STRINGS, _RISKY)
    index = 0
    for piece, line, counts in pieces:
        content = _CONTENT.search(piece)
        if content is not None:
            try:
                data = loads(piece)
            except Exception:
                return None
            if data is not None:
                if type(data) is not dict or not _plain(data, 0, seen):
                    return None
                offset = content.end() - 1
                row = line + piece.count("\n", 0, offset)
                column = offset - piece.rfind("\n", 0, offset)
                documents.append((index, row, column, data))
            index += 1
        elif counts:
            index += 1  # an empty document after a '---'
    return documents if _vouched(text, seen) else None


def fast_mapping(text: str) -> dict[str, Any] | None:
    """The mapping ``yaml.load`` with the safe loader makes of text, or None.

    For the store's files (one document, written by ``yaml.dump``): ``text`` is
    already decoded; None means load it with libyaml, which also locates any
    error. Unlike the manifest loader's, a plain date is a ``date`` there and a
    bare ``=`` an error, so string values are held to the keys' stricter test;
    and no node cap applies, so a large file (``stacks.yaml``) is taken too.
    A text with ``---`` anywhere, or without a document, is declined.
    """
    if "---" in text or not _plain_text(text):
        return None
    try:
        data = _parser()(text)
    except Exception:
        return None
    seen = _Seen(_SAFE_KEYS, _RISKY_KEY)
    if type(data) is not dict or not _plain(data, 0, seen) or not _vouched(text, seen):
        return None
    return data


def _plain_text(text: str) -> bool:
    """Nothing in the text that the fast path leaves to libyaml (see _DECLINE)."""
    if _DECLINE.search(text) or "..." in text:
        return False
    return len(text) < 1000 or not _LONG_LINE.search(text)


def _vouched(text: str, seen: _Seen) -> bool:
    """The text vouches for what the walk met: numbers and quoted look-alikes."""
    # A number may have been written in a way YAML 1.1 reads otherwise ("010",
    # "0o10", "1e3"): every number-like token of the text must read alike.
    if seen.numbers:
        for token in _TOKEN.findall("\n" + text):
            if not _SIMPLE.fullmatch(token) and not _token_alike(token):
                return False
    # A string YAML 1.1 would read otherwise if plain ("on", "1", "null") was quoted
    # (or a block scalar) unless the text holds it as a plain scalar: at a place a
    # plain scalar can start, ending where one can end.
    for string in seen.quoted:
        if re.search(r"(?<![^\s\[{,:?-])" + re.escape(string) + r"(?![^\s,\]}:#])", text):
            return False
    return True


def _pieces(text: str) -> list[tuple[str, int, bool]]:
    """Split at bare '---' lines: (text, first line, counts as a document if empty).

    Text before the first '---' is a document only if it holds something; every
    '---' starts one.
    """
    pieces = []
    start, line, counts = 0, 1, False
    for marker in _MARKER.finditer(text):
        piece = text[start:marker.start()]
        pieces.append((piece, line, counts))
        line += piece.count("\n") + text.count("\n", marker.start(), marker.end())
        start, counts = marker.end(), True
    pieces.append((text[start:], line, counts))
    return pieces


@functools.cache
def _parser() -> Callable[[str], Any]:
    # yaml_rs allocates with its own mimalloc, which keeps freed pages for a while
    # (they go back only on later allocations, 10 ms on): after parsing stacks.yaml of
    # 10,000 components, ~4 MiB that Python's own allocator cannot reuse stayed in the
    # plan's peak memory, or not, with the machine's speed. Returned at once instead.
    # (Read by mimalloc when the library loads; a value the user set is kept.)
    import os

    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")
    from yaml_rs import DuplicateKeyPolicy, loads

    return functools.partial(loads, parse_datetime=False,
                             duplicate_key_policy=DuplicateKeyPolicy.Error)


class _Seen:
    """What the walk met that the text must vouch for."""

    __slots__ = ("known", "numbers", "quoted", "risky")

    def __init__(self, known: set[str], risky: dict[str, re.Pattern[str]]) -> None:
        self.known = known  # string values seen to be strings in both readings
        self.risky = risky  # the YAML 1.1 patterns a plain string value must not match
        self.numbers = False  # an int or a float
        self.quoted: set[str] = set()  # strings that YAML 1.1 reads otherwise if plain

    def must_be_quoted(self, text: str) -> bool:
        # Without whitespace, a plain scalar is its text on one line; with, it may
        # have been folded from several (e.g. an explicit "? " key): decline.
        if text and (text.isspace() or not text.isprintable() or " " in text):
            return False
        if text:
            self.quoted.add(text)
        return True  # "" is never plain (an empty plain scalar is null)


def _plain(value: Any, depth: int, seen: _Seen) -> bool:
    """Only strings that YAML 1.1 also reads as strings (or were quoted: noted in
    seen), string keys, bounded depth; notes in seen whether a number was met."""
    if depth > MAX_DEPTH:
        return False
    known, risky = seen.known, seen.risky
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if key not in _SAFE_KEYS and (not key or key[0] in _RISKY_KEY) \
                    and not _string_alike(key, _SAFE_KEYS, _RISKY_KEY) \
                    and not seen.must_be_quoted(key):
                return False
            kind = type(item)
            if kind is str:
                # most strings have no YAML 1.1 pattern for their first character: taken
                # without a call (uuids, paths, names: not worth remembering in known)
                if item not in known and (not item or item[0] in risky) \
                        and not _string_alike(item, known, risky) \
                        and not seen.must_be_quoted(item):
                    return False
            elif kind is dict or kind is list:
                if not _plain(item, depth + 1, seen):
                    return False
            elif kind is int or kind is float:
                seen.numbers = True
        return True
    for item in value:  # a list
        kind = type(item)
        if kind is str:
            if item not in known and (not item or item[0] in risky) \
                    and not _string_alike(item, known, risky) \
                    and not seen.must_be_quoted(item):
                return False
        elif kind is dict or kind is list:
            if not _plain(item, depth + 1, seen):
                return False
        elif kind is int or kind is float:
            seen.numbers = True
    return True


def _string_alike(text: str, known: set[str] = _SAFE_STRINGS,
                  risky: dict[str, re.Pattern[str]] = _RISKY) -> bool:
    """A plain scalar of this text would be this string in YAML 1.1 as well (the
    callers looked it up in known first)."""
    pattern = risky.get(text[:1])
    if text == "" or (pattern is not None and pattern.match(text)):
        return False
    if len(known) < 4096:
        known.add(text)
    return True


def _token_alike(token: str) -> bool:
    """The token read alone as a plain scalar means the same in YAML 1.1 and 1.2."""
    known = _TOKENS_ALIKE.get(token)
    if known is None:
        known = _read_11(token) == _read_12(token)
        if len(_TOKENS_ALIKE) < 4096:
            _TOKENS_ALIKE[token] = known
    return known


_DIFFERENT = object()


def _read_11(token: str) -> object:
    """What the libyaml loader makes of a plain scalar (typed, NaN comparable)."""
    try:
        return _typed(plain_scalar(token))
    except Exception:
        return _DIFFERENT


def _read_12(token: str) -> object:
    try:  # as a mapping value: where number-like scalars mostly are
        data = _parser()("k: " + token)
        return _typed(data["k"]) if type(data) is dict and len(data) == 1 else object()
    except Exception:
        return object()


def _typed(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return (float, "nan")
    return (type(value), value)
