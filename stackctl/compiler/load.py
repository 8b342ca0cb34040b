"""Load manifest YAML into plain values while keeping where each value came from.

libyaml composes each document's node graph in C; a small constructor here turns
nodes into plain dicts, lists and scalars and rejects what PyYAML would quietly
accept: duplicate keys, non-string keys, alias bombs and non-JSON tags. No
position table is built: a Document keeps its root node, and ``locate`` walks it
only when an error needs a place, so loading costs about what a bare parse does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stackctl.errors import Location, ManifestError

try:
    from yaml import CSafeLoader as _Composer
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Composer  # type: ignore[assignment]

MAX_ALIASES: Final = 100
MAX_NODES: Final = 100_000
_BOM: Final = "\ufeff"
# libyaml reports reader errors as UTF-8 byte offsets, pure-Python PyYAML as
# character offsets.
_BYTE_OFFSETS: Final = bool(yaml.__with_libyaml__)


class YamlSyntaxError(ManifestError):
    """The text is not valid YAML."""

    rule = "yaml-syntax"


class DuplicateKeyError(ManifestError):
    """A mapping defines the same key twice (PyYAML would keep the last one)."""

    rule = "duplicate-key"


class AliasLimitError(ManifestError):
    """Aliases are overused, recursive, or expand into too many nodes."""

    rule = "alias-limit"


class NotAMappingError(ManifestError):
    """A document is a list or a scalar where a mapping is expected."""

    rule = "not-a-mapping"


class EncodingError(ManifestError):
    """The file is not UTF-8 or holds characters YAML forbids."""

    rule = "encoding"


class NonStringKeyError(ManifestError):
    """A mapping key is a number, boolean, null or collection."""

    rule = "non-string-key"


class UnsupportedTagError(ManifestError):
    """A tag other than the JSON-like core ones (``!!python/...``, ``!Ref``...)."""

    rule = "yaml-tag"


class NestingLimitError(ManifestError):
    """A document nests deeper than the loader can follow."""

    rule = "nesting-limit"


class ManifestReadError(ManifestError):
    """A manifest file cannot be read at all."""

    rule = "unreadable"


_Y = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _NULL, _MERGE = _Y + "str", _Y + "map", _Y + "seq", _Y + "null", _Y + "merge"
_SAFE = SafeConstructor()
_SCALARS: Final[dict[str, Callable[[ScalarNode], Any]]] = {
    _Y + "int": _SAFE.construct_yaml_int,
    _Y + "float": _SAFE.construct_yaml_float,
    _Y + "bool": _SAFE.construct_yaml_bool,
    _NULL: _SAFE.construct_yaml_null,
    # Manifests hold JSON-like values: a date stays the text it was written as,
    # and a bare "=" (YAML 1.1's unconstructible value tag) is just text.
    _Y + "timestamp": _SAFE.construct_scalar,
    _Y + "value": _SAFE.construct_scalar,
}


@dataclass(frozen=True)
class Document:
    """One YAML document of a manifest file, as plain values plus its node graph."""

    path: Path
    index: int
    data: dict[str, Any]
    line: int
    column: int
    rendered: bool = False
    node: MappingNode | None = field(default=None, repr=False, compare=False)

    def locate(self, json_path: Sequence[str | int]) -> Location:
        """Where the value at json_path is, else the deepest existing parent."""
        if self.node is None:
            return Location(str(self.path), self.line, self.column)
        return _location(str(self.path), _walk(self.node, json_path)[0])

    def locate_key(self, json_path: Sequence[str | int]) -> Location:
        """Where the key naming json_path's last step is (for unknown fields)."""
        if self.node is None:
            return Location(str(self.path), self.line, self.column)
        value, key = _walk(self.node, json_path)
        return _location(str(self.path), key if key is not None else value)


def load_file(path: Path) -> list[Document]:
    """Read, decode and load one manifest file (not a template)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestReadError(
            f"cannot read manifest: {exc.strerror or exc}", location=Location(str(path))
        ) from exc
    return load_text(decode_utf8(raw, path), path)


def decode_utf8(raw: bytes, path: Path) -> str:
    """Decode strictly, naming the line and column of the first bad byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        raise EncodingError(
            f"file is not valid UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded",
            location=Location(str(path), before.count(b"\n") + 1, column),
            hint="save the file as UTF-8 (without a UTF-16 byte order mark)",
        ) from exc


def load_text(text: str, path: Path, *, rendered: bool = False) -> list[Document]:
    """Load every non-null document of text; errors are located in path.

    ``rendered`` marks text produced from a template: positions then refer to
    the rendered output, and messages say so.
    """
    text = text.removeprefix(_BOM)
    source = _Source(str(path), rendered)
    # An alias needs an anchor, and an anchor needs "&": without one the
    # alias pre-pass cannot find anything and is skipped.
    may_alias = "&" in text
    documents: list[Document] = []
    composer = _Composer(text)
    try:
        index = 0
        while composer.check_node():
            root = composer.get_node()
            if root is not None and not (type(root) is ScalarNode and root.tag == _NULL):
                documents.append(_document(root, index, path, source, may_alias=may_alias))
            index += 1
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, source) from exc
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, source) from exc
    finally:
        composer.dispose()
    return documents


class _Source:
    """The file being loaded: builds located errors that say if it was rendered."""

    __slots__ = ("name", "rendered")

    def __init__(self, name: str, rendered: bool) -> None:  # noqa: FBT001
        self.name = name
        self.rendered = rendered

    def error(
        self, cls: type[ManifestError], message: str, line: int, column: int, hint: str | None
    ) -> ManifestError:
        if self.rendered:
            message += " (rendered: line numbers refer to the template's output)"
        return cls(message, location=Location(self.name, line, column), hint=hint)

    def at(self, cls: type[ManifestError], message: str, node: Node, hint: str | None = None) -> ManifestError:
        mark = node.start_mark
        return self.error(cls, message, mark.line + 1, mark.column + 1, hint)


def _document(root: Node, index: int, path: Path, source: _Source, *, may_alias: bool) -> Document:
    if type(root) is not MappingNode:
        what = "a list" if type(root) is SequenceNode else f"a scalar ({_short(root.value)})"
        raise source.at(
            NotAMappingError,
            f"document {index + 1} is {what}, not a mapping",
            root,
            "each YAML document must be a mapping (apiVersion, kind, metadata, spec); "
            "separate documents with '---'",
        )
    try:
        if may_alias:
            _check_aliases(root, source)
        data: dict[str, Any] = _Builder(source).value(root)
    except RecursionError:
        raise source.at(NestingLimitError, "document nests too deeply to load", root) from None
    mark = root.start_mark
    return Document(path, index, data, mark.line + 1, mark.column + 1, source.rendered, root)


class _Builder:
    """Turns one document's nodes into plain values; aliases become copies."""

    __slots__ = ("nodes", "source")

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.nodes = 0

    def value(self, node: Node) -> Any:
        kind = type(node)
        tag = node.tag
        if kind is ScalarNode:
            if tag == _STR:
                return node.value
            construct = _SCALARS.get(tag)
            if construct is not None:
                return construct(node)  # type: ignore[arg-type]
        elif kind is MappingNode and tag == _MAP:
            return self.mapping(node)  # type: ignore[arg-type]
        elif kind is SequenceNode and tag == _SEQ:
            return self.sequence(node)  # type: ignore[arg-type]
        raise self.source.at(
            UnsupportedTagError,
            f"tag '{tag.replace(_Y, '!!')}' is not supported here",
            node,
            "manifests hold only strings, numbers, booleans, null, mappings and lists",
        )

    def mapping(self, node: MappingNode) -> dict[str, Any]:
        pairs = node.value
        self.nodes += 2 * len(pairs)
        if self.nodes > MAX_NODES:
            raise _too_big(self.source, node)
        result: dict[str, Any] = {}
        merged: dict[str, Any] | None = None
        for key_node, value_node in pairs:
            if key_node.tag != _STR or type(key_node) is not ScalarNode:
                if key_node.tag == _MERGE and merged is None:
                    merged = self.merge(value_node)
                    continue
                raise _bad_key(self.source, node, key_node)
            key = key_node.value
            if key in result:
                raise _bad_key(self.source, node, key_node)
            # Plain strings are most values: skip the generic dispatch for them.
            if value_node.tag == _STR and type(value_node) is ScalarNode:
                result[key] = value_node.value
            else:
                result[key] = self.value(value_node)
        if merged is None:
            return result
        merged.update(result)  # explicit keys win over merged ones
        return merged

    def sequence(self, node: SequenceNode) -> list[Any]:
        items = node.value
        self.nodes += len(items)
        if self.nodes > MAX_NODES:
            raise _too_big(self.source, node)
        return [
            item.value if item.tag == _STR and type(item) is ScalarNode else self.value(item)
            for item in items
        ]

    def merge(self, node: Node) -> dict[str, Any]:
        # YAML merge keys ("<<: *base"): among several sources the first wins.
        sources = node.value if type(node) is SequenceNode else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            if type(source) is not MappingNode:
                raise self.source.at(
                    YamlSyntaxError, "a '<<' merge key takes a mapping or a list of mappings", source
                )
            merged.update(self.mapping(source))
        return merged


def _check_aliases(root: Node, source: _Source) -> None:
    """Count alias uses and the expanded size before anything is copied.

    Sizes are memoised per node, so a billion-laughs graph is measured in
    time proportional to its text, not to its expansion.
    """
    sizes: dict[int, int] = {}  # id(node) -> expanded size; 0 while visiting
    aliases = 0

    def size(node: Node, where: Node) -> int:
        nonlocal aliases
        known = sizes.get(id(node))
        if known is not None:  # seen before: only an alias reaches a node twice
            aliases += 1
            if known == 0:
                raise source.at(AliasLimitError, "recursive alias: a node contains itself", where)
            if aliases > MAX_ALIASES:
                raise source.at(
                    AliasLimitError,
                    f"more than {MAX_ALIASES} alias uses in one document",
                    where,
                    "repeat the values or template the file instead of using many aliases",
                )
            return known
        sizes[id(node)] = 0
        total = 1
        if type(node) is MappingNode:
            for key, value in node.value:
                total += size(key, node) + size(value, key)
        elif type(node) is SequenceNode:
            for item in node.value:
                total += size(item, node)
        if total > MAX_NODES:
            raise _too_big(source, node)
        sizes[id(node)] = total
        return total

    size(root, root)


def _too_big(source: _Source, node: Node) -> ManifestError:
    return source.at(
        AliasLimitError,
        f"document expands to more than {MAX_NODES:,} nodes (an alias bomb?)",
        node,
        "split the document; aliases must not multiply its size",
    )


def _bad_key(source: _Source, mapping: MappingNode, key: Node) -> ManifestError:
    if key.tag == _STR and type(key) is ScalarNode:
        first = next(k for k, _ in mapping.value if k.tag == _STR and k.value == key.value)
        return source.at(
            DuplicateKeyError,
            f"duplicate key '{key.value}' (first defined at line {first.start_mark.line + 1})",
            key,
            "remove one of them: YAML would silently keep only the last",
        )
    if key.tag == _MERGE:
        return source.at(DuplicateKeyError, "duplicate merge key '<<'", key, "merge a list: '<<: [*a, *b]'")
    kind = _KINDS.get(key.tag, f"tagged '{key.tag.replace(_Y, '!!')}'")
    shown = f" {_short(key.value)}" if type(key) is ScalarNode else ""
    return source.at(
        NonStringKeyError,
        f"mapping key{shown} is {kind}, not a string",
        key,
        "quote the key; note YAML reads yes/no/on/off as booleans",
    )


_KINDS: Final = {
    _Y + "int": "an integer",
    _Y + "float": "a number",
    _Y + "bool": "a boolean",
    _NULL: "null",
    _Y + "timestamp": "a date",
    _SEQ: "a list",
    _MAP: "a mapping",
}


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, source: _Source) -> ManifestError:
    mark = exc.problem_mark or exc.context_mark
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.context and exc.problem and exc.context_mark:
        cm = exc.context_mark
        message += f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
    hint = None
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        hint = "indent with spaces: YAML does not allow tabs"
    elif exc.problem and "mapping values are not allowed" in exc.problem:
        hint = "quote values that contain ': ', or fix the indentation"
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    return source.error(YamlSyntaxError, message, line, column, hint)


def _reader_error(exc: yaml.reader.ReaderError, text: str, source: _Source) -> ManifestError:
    char = exc.character if isinstance(exc.character, int) else ord(exc.character)
    position = exc.position
    before = text.encode()[:position].decode(errors="replace") if _BYTE_OFFSETS else text[:position]
    line_start = before.rfind("\n") + 1
    return source.error(
        EncodingError,
        f"character U+{char:04X} is not allowed in YAML ({exc.reason})",
        before.count("\n") + 1,
        len(before) - line_start + 1,
        "remove the control character or write it as an escape in a double-quoted string",
    )


def _walk(root: MappingNode, json_path: Sequence[str | int]) -> tuple[Node, Node | None]:
    """Follow json_path down the node graph: (deepest node reached, its key node)."""
    node: Node = root
    key: Node | None = None
    for part in json_path:
        if type(node) is MappingNode and isinstance(part, str):
            found = _lookup(node, part)
            if found is None:
                return node, None
            key, node = found
        elif type(node) is SequenceNode and type(part) is int and 0 <= part < len(node.value):
            key, node = None, node.value[part]
        else:
            return node, None
    return node, key


def _lookup(mapping: MappingNode, name: str) -> tuple[Node, Node] | None:
    merges: list[Node] = []
    for key, value in mapping.value:
        if key.tag == _STR and key.value == name:
            return key, value
        if key.tag == _MERGE:
            merges.append(value)
    for merge in merges:
        for source in merge.value if type(merge) is SequenceNode else [merge]:
            found = _lookup(source, name) if type(source) is MappingNode else None
            if found is not None:
                return found
    return None


def _location(name: str, node: Node) -> Location:
    return Location(name, node.start_mark.line + 1, node.start_mark.column + 1)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
