"""New files written by a helper process while this one goes on.

A new store of 10,000 components is 10,000 new files: their system calls take as long
as the rest of an apply's Python work after the plan. A thread cannot overlap them with
that work in CPython: returning from each call it waits for the GIL, up to the 5 ms
switch interval (the convoy effect). A process can: a bare interpreter of its own
(``-I -S``, only ``os``, ``sys``, ``marshal`` and ``threading``: ~10 ms to start) takes
the files in chunks on its stdin as this process renders them, creates them and flushes
them to disk, while this process renders the rest and computes what is left (the
store's bookkeeping).

Only files that must not exist yet are written (``O_EXCL``), and only into directories
staged under temp names (``stores.files``): nothing the helper writes is seen, or kept,
unless the commit's journal lands after it finished. A failure is raised here as the
``OSError`` the helper met, with its path.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import subprocess
import sys
from collections.abc import Sequence

# (path, data, mode at creation, mode to set after it or 0 when the creation's is exact)
Item = tuple[str, bytes, int, int]

# The helper reads chunks (marshal'd lists of items, then None) in a thread of its own,
# so the caller never waits on a full pipe while the files are written.
_HELPER = """\
import marshal, os, sys, threading
chunks, ready = [], threading.Condition()
def read():
    stream = sys.stdin.buffer
    try:
        while True:
            chunk = marshal.load(stream)
            with ready:
                chunks.append(chunk)
                ready.notify()
            if chunk is None:
                return
    except (EOFError, ValueError, TypeError):  # the caller went away before the end
        with ready:
            chunks.append(False)
            ready.notify()
def fail(code, message):
    # os._exit: a normal exit would wait on the reader thread's lock on stdin, and
    # Python then aborts with a fatal error of its own appended to ours
    sys.stderr.buffer.write(message)
    sys.stderr.buffer.flush()
    os._exit(code)
threading.Thread(target=read, daemon=True).start()
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
first = None
while True:
    with ready:
        while not chunks:
            ready.wait()
        chunk = chunks.pop(0)
    if chunk is None:
        break
    if chunk is False:
        fail(4, b"the caller ended before sending every file")
    for path, data, mode, chmod in chunk:
        try:
            fd = os.open(path, flags, mode)
            try:
                if chmod:
                    os.fchmod(fd, chmod)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        except OSError as exc:
            fail(3, b"\\0".join([str(exc.errno).encode(), os.fsencode(exc.strerror or ""),
                                 os.fsencode(path)]))
        first = first or path
if first:  # flushed here, while the caller works: its own sync then has little left to do
    import ctypes
    fd = os.open(os.path.dirname(first), os.O_RDONLY)
    if getattr(ctypes.CDLL(None, use_errno=True), "syncfs", lambda _fd: -1)(fd) != 0:
        os.sync()  # no syncfs here: the whole machine's
    os.close(fd)
"""


class Writer:
    """The helper process: ``send`` it items as they are ready (it starts writing the
    first while later ones are still being rendered here), ``finish``, then ``wait`` for
    it before using them."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _HELPER], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, close_fds=True)

    def send(self, items: Sequence[Item]) -> None:
        """Hand ``items`` over; a helper that already failed raises its failure here."""
        self._put(list(items))

    def finish(self) -> None:
        """Every item was sent."""
        self._put(None)
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()

    def _put(self, chunk: list[Item] | None) -> None:
        proc = self._proc
        assert proc is not None, "the helper was waited for"
        assert proc.stdin is not None
        try:
            proc.stdin.write(marshal.dumps(chunk))
            proc.stdin.flush()
        except BrokenPipeError:  # it stopped reading: it failed, and says why
            self.wait()
            raise OSError("the file-writing helper process ended early") from None

    def wait(self) -> None:
        """Block until every file is written; the helper's failure is raised here."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stderr is not None
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        err = proc.stderr.read()
        proc.stderr.close()
        if proc.wait() == 0:
            return
        parts = err.split(b"\0")
        if len(parts) == 3 and parts[0].isdigit():  # what the helper says of its failure
            raise OSError(int(parts[0]), os.fsdecode(parts[1]), os.fsdecode(parts[2]))
        raise OSError(f"the file-writing helper process failed (exit code {proc.returncode}): "
                      f"{err.decode(errors='replace').strip()[-500:]}")

    def stop(self) -> None:
        """Kill the helper (this commit is abandoned) and reap it; no-op once waited."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stderr):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):
                    stream.close()


def can_spawn(executable: str | None = None) -> bool:
    """Whether ``sys.executable`` is this very interpreter's program, so the helper is a
    Python of ours (Linux: /proc/self/exe tells). Elsewhere, or where Python is embedded
    in another program (sys.executable is then that program, or empty), no helper."""
    executable = sys.executable if executable is None else executable
    if not executable:
        return False
    try:
        return os.path.samefile(executable, "/proc/self/exe")
    except OSError:
        return False
