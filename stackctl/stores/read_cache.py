"""A stat-validated cache of parsed component files, like git's index.

Reading 10,000 small YAML files dominates a no-op plan. A file whose
(mtime, ctime, size, inode) are unchanged since it was parsed is taken from
the cache instead. Our own writes replace files (new inode), hand edits change
mtime/ctime; entries younger than ``RACY_SECONDS`` are never trusted (a file
edited twice within one timestamp tick could otherwise keep its stat).
Files holding secrets (mode 0600) are never cached, so no secret is copied.
The cache is only an accelerator, kept outside the config directory (it is
not state): ``$STACKCTL_CACHE_DIR``, else ``$XDG_CACHE_HOME/stackctl``, else
``~/.cache/stackctl``. Any problem with it means a plain read.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import stat
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from stackctl.stores import yamlio

RACY_SECONDS = 2.0
_VERSION = 1


def _signature(st: os.stat_result) -> list[int]:
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


class ReadCache:
    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self._prefix = str(root) + os.sep  # string slicing: Path.relative_to is slow here
        self.entries: dict[str, list[Any]] = {}
        self.seen: set[str] = set()
        self.dirty = False

    @classmethod
    def for_store(cls, root: Path) -> ReadCache:
        import hashlib

        from stackctl.cache_dir import cache_dir

        digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
        return cls(cache_dir() / "read-cache" / f"{digest}.json", root)

    def __enter__(self) -> ReadCache:
        try:
            data = json.loads(self.path.read_bytes())
            if isinstance(data, dict) and data.get("version") == _VERSION:
                self.entries = dict(data.get("entries", {}))
        except (OSError, ValueError):
            self.entries = {}
        return self

    def read(self, path: str | Path) -> dict[str, Any]:
        """The file's mapping (a fresh top-level dict: the caller may change it)."""
        full = os.fspath(path)
        prefix = self._prefix
        key = full[len(prefix):] if full.startswith(prefix) else full
        self.seen.add(key)
        entry = self.entries.get(key)
        if entry is not None:
            with contextlib.suppress(OSError):  # else read below: a located error
                if entry[:4] == _signature(os.stat(full)):
                    return dict(entry[4])
        # one open for the bytes and the stat of the very file read
        raw, st = yamlio.read_with_stat(full)
        data = yamlio.parse_mapping(raw, full)
        private = stat.S_IMODE(st.st_mode) & 0o077 == 0
        fresh = time.time() - max(st.st_mtime, st.st_ctime) < RACY_SECONDS
        if private or fresh:
            if self.entries.pop(key, None) is not None:
                self.dirty = True
        else:
            self.entries[key] = [*_signature(st), data]
            self.dirty = True
        return dict(data)

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

        # streamed entry by entry: one json.dumps of 10,000 entries builds a chunk per
        # token and then the whole text (megabytes of peak memory beyond the file's size)
        encode = json.JSONEncoder(separators=(",", ":"), default=str).encode
        chunks = itertools.chain(
            [f'{{"version":{_VERSION},"entries":{{'.encode()],
            (f"{',' if i else ''}{encode(key)}:{encode(entry)}".encode()
             for i, (key, entry) in enumerate(self.entries.items())),
            [b"}}"])
        with contextlib.suppress(OSError):  # no cache dir: reading still works
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self.path, chunks, durable=False)
