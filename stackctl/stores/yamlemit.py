"""A fast emitter for the plain shapes of store files, byte for byte as ``yaml.dump``.

PyYAML's C dumper still runs its Python representer on every node (~35 µs a
component file; a first apply of 10,000 components paid ~0.4 s for it). Store files
are simple: mappings with string keys, lists, and scalars that are short ASCII
names, paths and URLs, numbers, booleans and nulls. ``emit`` writes those exactly
as ``yaml.dump(data, Dumper=CSafeDumper, default_flow_style=False)`` does and
returns None for anything it is not sure of (the caller then uses ``yaml.dump``):
a string with a space, a single quote, a non-ASCII or control character; a long
key; a float that is not plain decimal; a list in a list; an object appearing
twice (PyYAML would write an anchor); any other type.
tests/test_yamlemit.py compares it with ``yaml.dump`` over generated values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

# Printable ASCII without space or single quote: PyYAML writes such a string plain
# unless an indicator or the resolver forbids it, and then in single quotes as it is.
_QUOTABLE = re.compile(r"[!-&(-~]+\Z")
_INDICATOR_FIRST = frozenset("#,[]{}&*!|>\"%@`")
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+\Z")
# the tag PyYAML's serializer gives a plain scalar (the dumper's own resolver)
_resolve: Callable[[type, str, tuple[bool, bool]], str] = yaml.resolver.Resolver().resolve
_STR_TAG = "tag:yaml.org,2002:str"
_IMPLICIT = (True, False)
_MAX_KEY = 100  # PyYAML writes a key of 128 characters or more as a complex key
_CACHE_LIMIT = 50_000

# str → its YAML text ('' when not sure); names and flavors repeat across files
_scalars: dict[str, str] = {}


class _UnsureError(Exception):
    """Raised inside the emitter: this value is left to yaml.dump."""


def emit(data: Any, *, sort_keys: bool = True) -> str | None:
    """``data`` as ``yaml.dump`` writes it in block style, or None when not sure."""
    if type(data) is not dict:
        return None
    if not data:
        return "{}\n"
    out: list[str] = []
    try:
        _mapping(data, "", out, sort_keys, set())
    except _UnsureError:
        return None
    return "".join(out)


def _string(text: str) -> str:
    shown = _scalars.get(text)
    if shown is None:
        shown = ""
        if _QUOTABLE.match(text):  # PyYAML's analyze_scalar, for text without spaces
            plain = not (text[0] in _INDICATOR_FIRST or text in ("?", "-")
                         or text.endswith(":") or text.startswith(("---", "...")))
            plain = plain and _resolve(yaml.ScalarNode, text, _IMPLICIT) == _STR_TAG
            shown = text if plain else f"'{text}'"
        elif not text:
            shown = "''"
        if len(_scalars) >= _CACHE_LIMIT:
            _scalars.clear()
        _scalars[text] = shown
    if not shown:
        raise _UnsureError
    return shown


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        shown = repr(value)
        if _DECIMAL.match(shown):
            return shown
    raise _UnsureError


def _once(node: dict[str, Any] | list[Any], seen: set[int]) -> None:
    """A dict or list met twice would be an anchor and an alias in PyYAML's output."""
    if id(node) in seen:
        raise _UnsureError
    seen.add(id(node))


def _mapping(data: dict[str, Any], indent: str, out: list[str], sort_keys: bool,
             seen: set[int]) -> None:
    _once(data, seen)
    keys = list(data)
    for key in keys:
        if type(key) is not str or len(key) > _MAX_KEY:
            raise _UnsureError
    if sort_keys:
        keys.sort()
    deeper = indent + "  "
    known = _scalars  # the cache first: most keys and many values were met before
    for key in keys:
        value = data[key]
        kind = type(value)
        head = f"{indent}{known.get(key) or _string(key)}:"
        if kind is str:
            out.append(f"{head} {known.get(value) or _string(value)}\n")
        elif kind is dict or kind is list:
            if not value:
                _once(value, seen)
                out.append(f"{head} {'{}' if kind is dict else '[]'}\n")
            else:
                out.append(f"{head}\n")
                if kind is dict:
                    _mapping(value, deeper, out, sort_keys, seen)
                else:
                    _sequence(value, indent, out, sort_keys, seen)  # PyYAML: not indented
        else:
            out.append(f"{head} {_scalar(value)}\n")


def _sequence(data: list[Any], indent: str, out: list[str], sort_keys: bool,
              seen: set[int]) -> None:
    _once(data, seen)
    deeper = indent + "  "
    for item in data:
        kind = type(item)
        if kind is dict:
            if not item:
                _once(item, seen)
                out.append(f"{indent}- {{}}\n")
                continue
            start = len(out)
            _mapping(item, deeper, out, sort_keys, seen)
            out[start] = f"{indent}- {out[start][len(deeper):]}"  # first key beside the dash
        elif kind is list:
            raise _UnsureError
        else:
            out.append(f"{indent}- {_scalar(item)}\n")
