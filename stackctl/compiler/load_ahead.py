"""The latter part of a large manifest set loaded by a forked child, while this process
loads the rest.

Parsing and schema-checking manifest files is most of a compile (validate, plan,
apply) and each file is independent of the others; CPython runs Python code on one
core at a time. So with many files, a child forked after the files were read parses
and checks the latter part (about half of the bytes) while this process does the
first part and builds the desired state from it; the child hands over its results
(pickled: cheaper to rebuild than to parse again) and this process builds the rest.

Forking is done only where it is safe and pays: on Linux, in a process of one thread
(a fork copies only the forking thread: a lock held by another would stay held in the
child), with enough bytes for the child. Anything wrong with the child (it died,
its answer does not load) means this process loads those files itself: the result
is the same either way, only slower.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.load import Document

L = TypeVar("L")  # what loading a file gives (compile's _Loaded)

# Below this many bytes for the child, forking (~5 ms) and handing over cost more
# than the child saves.
MIN_CHILD_BYTES = 128 * 1024

# Per document of a loaded file: whether it passed its schema, and the problems found.
Checks = list[tuple[bool, list[Diagnostic]]]


def can_fork() -> bool:
    """Linux, and this process runs one thread (native ones included)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def child_share(sizes: Sequence[tuple[Path, int]]) -> list[Path]:
    """The files the child loads: the last ones, about half of the bytes (none when
    that is too little to pay for a fork)."""
    total = sum(size for _, size in sizes)
    if total < 2 * MIN_CHILD_BYTES:
        return []
    share: list[Path] = []
    taken = 0
    for path, size in reversed(sizes):
        if taken >= total // 2:
            break
        share.append(path)
        taken += size
    share.reverse()
    return share


class LoadAhead(Generic[L]):
    """A forked child loading ``paths`` with ``load`` and checking each document with
    ``check``; ``take`` each path's result in the same order (the first call waits for
    the child).

    The child writes one pickle per file to an anonymous in-memory file, not to a pipe:
    a pipe would stall it at 64 KiB until this process reads, and reading everything at
    once would hold all its files' documents together (the compile builds from one file
    at a time so that they never all take memory: ~115 MiB at 100,000 components).
    """

    def __init__(self, paths: list[Path], load: Callable[[Path], L],
                 documents: Callable[[L], list[Document]],
                 check: Callable[[Document, list[Diagnostic]], bool]) -> None:
        self._paths = set(paths)
        self._answer: BinaryIO | None = None
        self._broken = False
        self._fd = _anonymous_file()
        pid = os.fork()
        if pid == 0:  # the child: load, answer, leave without running this process's exits
            status = 1
            try:
                import pickle

                with os.fdopen(os.dup(self._fd), "wb", buffering=1 << 20) as out:
                    for path in paths:
                        loaded = load(path)
                        checks: Checks = []
                        for doc in documents(loaded):
                            found: list[Diagnostic] = []
                            checks.append((check(doc, found), found))
                        pickle.dump((str(path), loaded, checks), out,
                                    protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
            finally:
                os._exit(status)
        self._pid: int | None = pid

    def wants(self, path: Path) -> bool:
        return path in self._paths

    def take(self, path: Path) -> tuple[L, Checks] | None:
        """The child's result for ``path``, the next one it wrote; None: load it here
        (the child failed, or its answer is not the one expected: then none is used)."""
        if self._answer is None and not self._broken:
            if self._reap() == 0:
                self._answer = os.fdopen(os.dup(self._fd), "rb")
                self._answer.seek(0)
            else:
                self._broken = True
        if self._broken or self._answer is None:
            return None
        import pickle

        try:  # our own child's answer, in a file only it and we hold
            name, loaded, checks = pickle.load(self._answer)  # noqa: S301
        except Exception:  # any damage means: load those files here
            name = None
        if name != str(path):
            self._broken = True
            return None
        return loaded, checks

    def _reap(self) -> int:
        pid, self._pid = self._pid, None
        if pid is None:
            return 1
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        """Stop and reap the child if it was never waited for (the compile failed), and
        free its answer."""
        if self._pid is not None:
            import signal

            os.kill(self._pid, signal.SIGKILL)
            self._reap()
        if self._answer is not None:
            self._answer.close()
            self._answer = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _anonymous_file() -> int:
    """A file of no name, freed with its last descriptor (in memory where Linux can)."""
    try:
        return os.memfd_create("stackctl-load-ahead", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        import tempfile

        with tempfile.TemporaryFile() as handle:
            return os.dup(handle.fileno())
