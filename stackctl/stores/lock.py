"""A store lock that is a lease: it says who holds it, and dies with its holder.

Writers take it exclusively; readers take the same file's flock shared
(``read_lock``), so a reader never runs during a commit's roll-forward and
sees the store as before or as after it.

The OS lock (``flock`` on ``lock``) guarantees mutual exclusion and is
released by the kernel when a process dies, so a lock left by a crashed
process is taken over safely by construction. Beside it a small JSON lease
records pid, host, command and time, so a waiting process can name the holder
when it gives up.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from stackctl.errors import LockError

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0


def lock_timeout() -> float:
    """Seconds to wait for a store's lock: ``$STACKCTL_LOCK_TIMEOUT``, read when a lock is
    taken (never at import, so a bad value fails only the command that needs it)."""
    from stackctl.errors import UsageError

    value = os.environ.get("STACKCTL_LOCK_TIMEOUT", "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < 10**9:  # NaN fails too
        raise UsageError(f"STACKCTL_LOCK_TIMEOUT must be a number of seconds, not {value!r}.",
                         hint="Set it to e.g. 30, or unset it for the default (30).")
    return max(seconds, 0.001)


def _describe_holder(lease: Path) -> str:
    try:
        info = json.loads(lease.read_text())
    except (OSError, ValueError):
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("time", 0)))
    return (
        f"pid {info.get('pid')} on {info.get('host')} running "
        f"'{info.get('command')}' since {since}"
    )


# Lock directories this process holds exclusively: a read inside its own commit
# needs no shared lock (and taking one on a second descriptor would wait on itself).
_HELD: set[tuple[str, int]] = set()


def _timed_out(lock_dir: Path, what: str, wait: float) -> LockError:
    return LockError(f"Could not lock {what} within {wait:g}s: it is held by "
                     f"{_describe_holder(lock_dir / 'lock.json')}.",
                     hint="Wait for that command to finish, or raise STACKCTL_LOCK_TIMEOUT.")


def _wait(take: Callable[[], None], deadline: float) -> bool:
    """Retry a non-blocking lock call until it succeeds (True) or ``deadline`` passes."""
    while True:
        try:
            take()
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)


def _turnstile(fd: int) -> Callable[[], None]:
    """Byte 0 of the lock file, locked by fcntl record lock (independent of the flock):
    a writer holds it while it waits, so new readers queue behind it and a stream of
    readers cannot starve it."""
    import fcntl

    return lambda: fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)


@contextmanager
def read_lock(lock_dir: Path, what: str) -> Iterator[bool]:
    """Hold ``lock_dir``'s lock shared for a read; yields False when it has no lock file
    (no stackctl writer has ever locked this store; the caller checks again after)."""
    import fcntl

    if (str(lock_dir), threading.get_ident()) in _HELD:
        yield True
        return
    try:
        fd = os.open(lock_dir / "lock", os.O_RDWR)  # never created by a reader
    except (FileNotFoundError, NotADirectoryError):
        yield False
        return
    try:
        wait = lock_timeout()
        deadline = time.monotonic() + wait
        if not (_wait(_turnstile(fd), deadline) and _wait(
                lambda: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB), deadline)):
            raise _timed_out(lock_dir, what, wait)
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)
        yield True
    finally:
        os.close(fd)  # releases the flock


def consistent_read(lock_dir: Path, what: str, recover: Callable[[], object],
                    read: Callable[[], T]) -> T:
    """``read()`` a store as before or as after any commit, never halfway through one.

    Under the shared lock no live writer is mid-commit; a journal seen there was
    left by a dead one, so it is rolled forward (``recover``, exclusive) and the
    read starts again. A store with no lock file yet is read, then read again
    under the lock if a first writer created it meanwhile.
    """
    for _ in range(5):
        recover()
        with read_lock(lock_dir, what) as locked:
            if (lock_dir / "journal.json").exists():
                continue
            value = read()
        if locked or not (lock_dir / "lock").exists():
            return value
    recover()
    with read_lock(lock_dir, what):
        return read()


@contextmanager
def store_lock(lock_dir: Path, what: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of the store kept in ``lock_dir`` for the ``with`` block."""
    import fcntl

    lock_dir.mkdir(parents=True, exist_ok=True)
    lease = lock_dir / "lock.json"
    wait = lock_timeout() if timeout is None else timeout
    # One descriptor for both locks: closing any descriptor of the file would drop
    # this process's record locks (POSIX), the turnstile among them.
    fd = os.open(lock_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        if not (_wait(_turnstile(fd), deadline) and _wait(
                lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB), deadline)):
            raise _timed_out(lock_dir, what, wait)
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)  # readers may queue again, behind the flock
    except BaseException:
        os.close(fd)
        raise
    _HELD.add((str(lock_dir), threading.get_ident()))
    try:
        record = {
            "pid": os.getpid(),
            "host": _hostname(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200],
            "time": time.time(),
        }
        lease.write_text(json.dumps(record))
        yield
    finally:
        try:
            lease.unlink(missing_ok=True)
        finally:
            _HELD.discard((str(lock_dir), threading.get_ident()))
            os.close(fd)  # releases the flock; the kernel does so too if we die


def _hostname() -> str:
    import socket  # only a writer records its host: reads do not import it

    return socket.gethostname()
