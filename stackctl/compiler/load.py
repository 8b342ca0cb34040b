"""Load manifest YAML into plain values while keeping where each value came from.

libyaml composes each document's node graph in C; a small constructor here turns
nodes into plain dicts, lists and scalars and rejects what PyYAML would quietly
accept: duplicate keys, non-string keys, alias bombs and non-JSON tags.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stackctl.errors import Location, ManifestError
from stackctl.yamlfast import SCALARS

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


class ManifestReadError(ManifestError):
    """A manifest file cannot be read at all."""
    rule = "unreadable"


_Y = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _NULL, _MERGE = _Y + "str", _Y + "map", _Y + "seq", _Y + "null", _Y + "merge"
# The values of a document that keeps only its position (Document.located_only):
# never written to (documents stay as read).
_NO_DATA: Final[dict[str, Any]] = {}


@dataclass(frozen=True, slots=True)  # one per manifest document
class Document:
    """One YAML document of a manifest file, as plain values.

    Positions are not stored: keeping node graphs (or a table per value) alive
    costs more garbage-collector time than the parse itself. The text is
    recomposed on the first ``locate`` instead: errors are rare, loads many.
    A file's text is not kept but read again when asked for (a plan of 100,000
    components would keep ~30 MiB of it), and used only if it is still the text
    loaded (``digest``, its hash): else positions fall back to the document's
    start. Other text (a rendered template's output) is kept (``held``).
    """

    path: Path
    index: int  # among all documents of the file, null ones included
    data: dict[str, Any]
    line: int
    column: int
    rendered: bool = False
    held: str = field(default="", repr=False, compare=False)
    digest: int | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The text the document was loaded from ("" if unknown or since changed)."""
        if self.held or self.digest is None:
            return self.held
        from stackctl.compiler.read import read_regular

        try:
            text = decode_utf8(read_regular(self.path), self.path).removeprefix(_BOM)
        except ManifestError:
            return ""
        return text if hash(text) == self.digest else ""

    def located_only(self) -> Document:
        """This document without its values, only where it is: what a compiled
        resource keeps of its manifest to locate diagnostics (its values are in the
        desired objects already). Its ``data`` is an empty mapping shared by all."""
        return Document(self.path, self.index, _NO_DATA, self.line, self.column,
                        self.rendered, self.held, self.digest)

    def locate(self, json_path: Sequence[str | int]) -> Location:
        """Where the value at json_path is, else the deepest existing parent."""
        return self._find(json_path, key=False)

    def locate_key(self, json_path: Sequence[str | int]) -> Location:
        """Where the key naming json_path's last step is (for unknown fields)."""
        return self._find(json_path, key=True)

    def _find(self, json_path: Sequence[str | int], *, key: bool) -> Location:
        text = self.text  # read again from the file: once per call
        # Compose only as far as this document (in powers of two, so that a file's
        # diagnostics in document order compose it about twice at most, not once each).
        nodes = _compose_all(text, 1 << self.index.bit_length()) if text else ()
        root = nodes[self.index] if self.index < len(nodes) else None
        if type(root) is not MappingNode:
            return Location(str(self.path), self.line, self.column)
        value_node, key_node = _walk(root, json_path)
        mark = (key_node if key and key_node is not None else value_node).start_mark
        return Location(str(self.path), mark.line + 1, mark.column + 1)


def load_file(path: Path) -> list[Document]:
    """Read, decode and load one manifest file (not a template)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"cannot read manifest: {exc.strerror or exc}"
        raise ManifestReadError(message, location=Location(str(path))) from exc
    return load_text(decode_utf8(raw, path), path, from_file=True)


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


def load_text(text: str, path: Path, *, rendered: bool = False,
              from_file: bool = False) -> list[Document]:
    """Load every non-null document of text; errors are located in path.

    ``rendered`` marks text produced from a template: positions then refer to
    the rendered output, and messages say so. ``from_file``: text is path's
    content (as ``decode_utf8`` gives it): documents keep its hash, not the text.
    """
    text = text.removeprefix(_BOM)
    from stackctl.yamlfast import fast_documents  # looked up per call: tests replace it

    fast = None if os.environ.get("STACKCTL_YAML_FAST") == "0" else fast_documents(text)
    if fast is not None:
        held, digest = _kept(text, from_file)
        return [Document(path, index, data, line, column, rendered, held, digest)
                for index, line, column, data in fast]
    return compose_documents(text, path, rendered=rendered, from_file=from_file)


def compose_documents(text: str, path: Path, *, rendered: bool = False,
                      from_file: bool = False) -> list[Document]:
    """load_text's libyaml path (BOM already removed): every check, located errors."""
    source = _Source(str(path), text, rendered=rendered, from_file=from_file)
    # An alias needs an anchor, and an anchor needs "&": without one the
    # alias pre-pass cannot find anything and is skipped.
    may_alias = "&" in text
    documents: list[Document] = []
    try:
        composer = _Composer(text)  # pure-Python PyYAML checks characters here
        try:
            index = 0
            while composer.check_node():
                document = _document(composer.get_node(), index, path, source, may_alias=may_alias)
                if document is not None:
                    documents.append(document)
                index += 1
        finally:
            composer.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from exc
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, source) from exc
    except RecursionError:  # only pure-Python PyYAML composes recursively
        raise source.at(YamlSyntaxError, "document nests too deeply to load", (0, 0)) from None
    return documents


class _Source:
    """The file being loaded: builds located errors that say if it was rendered."""

    __slots__ = ("from_file", "name", "rendered", "text")

    def __init__(self, name: str, text: str, *, rendered: bool, from_file: bool = False) -> None:
        self.name = name
        self.text = text
        self.rendered = rendered
        self.from_file = from_file

    def at(
        self, cls: type[ManifestError], message: str, where: Node | tuple[int, int], hint: str = ""
    ) -> ManifestError:
        """An error at a node, or at a 1-based (line, column)."""
        if isinstance(where, Node):
            where = (where.start_mark.line + 1, where.start_mark.column + 1)
        if self.rendered:
            message += " (rendered: line numbers refer to the template's output)"
        return cls(message, location=Location(self.name, *where), hint=hint or None)


def _document(
    root: Node | None, index: int, path: Path, source: _Source, *, may_alias: bool
) -> Document | None:
    if root is None or (type(root) is ScalarNode and root.tag == _NULL):
        return None  # "---" with nothing after it, or an explicit null
    if type(root) is not MappingNode:
        what = "a list" if type(root) is SequenceNode else f"a scalar ({_short(root.value)})"
        message = f"document {index + 1} is {what}, not a mapping"
        hint = "a manifest is a mapping (apiVersion, kind, metadata, spec); separate them with ---"
        raise source.at(NotAMappingError, message, root, hint)
    try:
        if may_alias:
            _check_aliases(root, source)
        data: dict[str, Any] = _Builder(source).value(root)
    except RecursionError:
        # libyaml reports its own depth limit as a syntax error: so do we.
        raise source.at(YamlSyntaxError, "document nests too deeply to load", root) from None
    mark = root.start_mark
    return Document(path, index, data, mark.line + 1, mark.column + 1, source.rendered,
                    *_kept(source.text, source.from_file))


def _kept(text: str, from_file: bool) -> tuple[str, int | None]:
    """What a Document keeps of its text: a file's hash, any other text itself."""
    return ("", hash(text)) if from_file else (text, None)


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
            construct = SCALARS.get(tag)
            if construct is not None:
                try:
                    return construct(node)  # type: ignore[arg-type]
                except ValueError:  # Python refuses ints of over 4,300 digits
                    raise self.source.at(YamlSyntaxError, "number too long to read (over "
                                         "4,300 digits)", node, "quote it if it is text"
                                         ) from None
        elif kind is MappingNode and tag == _MAP:
            return self.mapping(node)  # type: ignore[arg-type]
        elif kind is SequenceNode and tag == _SEQ:
            return self.sequence(node)  # type: ignore[arg-type]
        message = f"tag '{tag.replace(_Y, '!!')}' is not supported here"
        hint = "manifests hold only strings, numbers, booleans, null, mappings and lists"
        raise self.source.at(UnsupportedTagError, message, node, hint)

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
                message = "a '<<' merge key takes a mapping or a list of mappings"
                raise self.source.at(YamlSyntaxError, message, source)
            merged.update(self.mapping(source))
        return merged


def _check_aliases(root: Node, source: _Source) -> None:
    """Count alias uses and expanded size before copying anything.

    Sizes are memoised per node: a billion-laughs graph costs its text's size.
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
                message = f"more than {MAX_ALIASES} alias uses in one document"
                raise source.at(AliasLimitError, message, where, "use a template instead")
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
    message = f"document expands to more than {MAX_NODES:,} nodes (an alias bomb?)"
    return source.at(AliasLimitError, message, node, "split the document")


def _bad_key(source: _Source, mapping: MappingNode, key: Node) -> ManifestError:
    if key.tag == _STR and type(key) is ScalarNode:
        first = next(k for k, _ in mapping.value if k.tag == _STR and k.value == key.value)
        line = first.start_mark.line + 1
        message = f"duplicate key '{key.value}' (first defined at line {line})"
        return source.at(DuplicateKeyError, message, key, "remove one: YAML would keep the last")
    if key.tag == _MERGE:
        hint = "merge a list instead: '<<: [*a, *b]'"
        return source.at(DuplicateKeyError, "duplicate merge key '<<'", key, hint)
    shown = f" {_short(key.value)}" if type(key) is ScalarNode else ""
    message = f"mapping key{shown} is not a string (YAML reads it as {key.tag.replace(_Y, '!!')})"
    hint = "quote it (YAML reads yes/no/on/off as booleans)"
    return source.at(NonStringKeyError, message, key, hint)


def _syntax_error(exc: yaml.MarkedYAMLError, source: _Source) -> ManifestError:
    mark, cm = exc.problem_mark or exc.context_mark, exc.context_mark
    if mark is None:  # not seen in practice: libyaml marks every error
        return source.at(YamlSyntaxError, f"YAML syntax error: {exc}", (0, 0))
    message = f"YAML syntax error: {exc.problem or exc.context}"
    # The context ("while parsing a block mapping") helps when it starts elsewhere.
    if exc.problem and exc.context and cm and (cm.line, cm.column) != (mark.line, mark.column):
        message += f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
    hint = ""
    if source.text[mark.index : mark.index + 1] == "\t":
        hint = "indent with spaces: YAML does not allow tabs"
    elif "mapping values are not allowed" in message:
        hint = "quote values that contain ': ', or fix the indentation"
    return source.at(YamlSyntaxError, message, (mark.line + 1, mark.column + 1), hint)


def _reader_error(exc: yaml.reader.ReaderError, source: _Source) -> ManifestError:
    char = exc.character if isinstance(exc.character, int) else ord(exc.character)
    text, position = source.text, exc.position
    before = text.encode()[:position].decode(errors="replace") if _BYTE_OFFSETS else text[:position]
    where = (before.count("\n") + 1, len(before) - before.rfind("\n"))
    message = f"character U+{char:04X} is not allowed in YAML ({exc.reason})"
    return source.at(EncodingError, message, where, "remove it, or escape it in double quotes")


@functools.lru_cache(maxsize=32)
def _compose_all(text: str, count: int) -> tuple[Node | None, ...]:
    """Recompose the first ``count`` documents of text that loaded before (so it
    cannot fail) to find positions; fewer if the text has fewer."""
    composer = _Composer(text)
    try:
        nodes: list[Node | None] = []
        while len(nodes) < count and composer.check_node():
            nodes.append(composer.get_node())
        return tuple(nodes)
    finally:
        composer.dispose()


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


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
