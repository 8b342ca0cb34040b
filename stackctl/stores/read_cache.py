"""A stat-validated cache of parsed component files, like git's index.

Reading 10,000 small YAML files dominates a no-op plan. A file whose
(mtime, ctime, size, inode) are unchanged since it was parsed is taken from
the cache instead. Our own writes replace files (new inode), hand edits change
mtime/ctime; entries younger than ``RACY_SECONDS`` are never trusted (a file
edited twice within one timestamp tick could otherwise keep its stat).
Files holding secrets (mode 0600) are never cached, so no secret is copied.
The cache is only an accelerator, kept outside the config directory (it is
not state): ``$STACKCTL_CACHE_DIR``, else ``$XDG_CACHE_HOME/stackctl``, else
``~/.cache/stackctl``. Any problem with it means a plain read (so does a cache file
removed under us). ``stackctl.cache_prune`` removes caches unused for a month and
those whose store root is gone (recorded in the header line).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import stat
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from stackctl import cache_prune
from stackctl.stores import yamlio

RACY_SECONDS = 2.0
# The file: a header line (this, the store root as a JSON string, LF: pruning finds
# caches of removed stores by it), then one line per entry,
#   <key as a JSON string> TAB <mtime_ns> <ctime_ns> <size> <inode> TAB <data as JSON> LF
# (JSON escapes tabs and line breaks, so neither appears inside a part). Lines are
# kept as read and parsed only when their file is read: a plan never holds the whole
# cache parsed (at 100,000 files that was ~125 MiB of peak memory), and unchanged
# entries are written back as they were. A cache of another version (version 1 was
# one JSON document, version 2 recorded no root) or of another root is ignored, and
# replaced by the next write.
_HEADER = b"stackctl-read-cache 3 "


def recorded_root(line: bytes) -> str | None:
    """The store root a cache file's first ``line`` records (None: not a header)."""
    if not (line.startswith(_HEADER) and line.endswith(b"\n")):
        return None
    with contextlib.suppress(ValueError):
        root = json.loads(line[len(_HEADER):])
        if type(root) is str and os.path.isabs(root):
            return root
    return None


def _signature(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns} {st.st_ctime_ns} {st.st_size} {st.st_ino}"


class ReadCache:
    def __init__(self, path: Path, root: Path, recorded: str | None = None) -> None:
        """``recorded``: the root named in the header (default: ``root`` made absolute)."""
        self.path = path
        self.root = root
        self._header = _HEADER + _ENCODE(recorded or os.path.abspath(root)).encode() + b"\n"
        self._prefix = str(root) + os.sep  # string slicing: Path.relative_to is slow here
        self.entries: dict[str, bytes] = {}  # key -> its line
        self.seen: set[str] = set()
        self.dirty = False

    @classmethod
    def for_store(cls, root: Path) -> ReadCache:
        import hashlib

        from stackctl.cache_dir import READ_CACHE, cache_dir

        resolved = str(root.resolve())
        digest = hashlib.sha256(resolved.encode()).hexdigest()[:24]
        return cls(cache_dir() / READ_CACHE / f"{digest}.json", root, resolved)

    def __enter__(self) -> ReadCache:
        entries: dict[str, bytes] = {}
        try:
            with open(self.path, "rb") as handle:
                if handle.readline() == self._header:
                    cache_prune.mark_used(handle.fileno())
                    for line in handle:
                        key, tab, _ = line.partition(b"\t")
                        if tab and line.endswith(b"\n"):
                            entries[_key(key)] = line
        except (OSError, ValueError):
            entries = {}
        self.entries = entries
        return self

    def read(self, path: str | Path) -> dict[str, Any]:
        """The file's mapping (a fresh one: the caller may change it)."""
        full = os.fspath(path)
        prefix = self._prefix
        key = full[len(prefix):] if full.startswith(prefix) else full
        self.seen.add(key)
        line = self.entries.get(key)
        if line is not None:
            with contextlib.suppress(OSError):  # else read below: a located error
                parts = line.split(b"\t", 2)
                if len(parts) == 3 and parts[1] == _signature(os.stat(full)).encode():
                    with contextlib.suppress(ValueError):  # a damaged line: a plain read
                        found = json.loads(parts[2])
                        if type(found) is dict:
                            return _shared_keys(found)
        # one open for the bytes and the stat of the very file read
        raw, st = yamlio.read_with_stat(full)
        data = yamlio.parse_mapping(raw, full)
        private = stat.S_IMODE(st.st_mode) & 0o077 == 0
        fresh = time.time() - max(st.st_mtime, st.st_ctime) < RACY_SECONDS
        if private or fresh:
            if self.entries.pop(key, None) is not None:
                self.dirty = True
        else:
            self.entries[key] = (f"{_ENCODE(key)}\t{_signature(st)}\t{_ENCODE(data)}\n"
                                 .encode())
            self.dirty = True
        return _shared_keys(data)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            return
        stale = set(self.entries) - self.seen
        for key in stale:
            del self.entries[key]
        if not (self.dirty or stale):
            return
        from stackctl.stores.files import atomic_write

        # streamed line by line: no copy of the whole file is built
        chunks = itertools.chain([self._header], self.entries.values())
        with contextlib.suppress(OSError):  # no cache dir: reading still works
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self.path, chunks, durable=False)
            # only after a write: a no-op plan (nothing written) never prunes
            cache_prune.after_write(self.path.parent.parent)


_intern = sys.intern
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=str).encode


def _shared_keys(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the mapping whose text keys are interned: a dict per file of 100,000,
    their keys share one string each."""
    return {_intern(k) if type(k) is str else k: v for k, v in data.items()}


def _key(encoded: bytes) -> str:
    """A line's key (a JSON string; most hold no escape and need no parser)."""
    if encoded[:1] == b'"' and encoded[-1:] == b'"' and b"\\" not in encoded:
        return encoded[1:-1].decode()
    key = json.loads(encoded)
    if type(key) is not str:
        raise ValueError("not a key")
    return key
