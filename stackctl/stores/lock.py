"""A store lock that is a lease: it says who holds it, and dies with its holder.

The OS lock (``filelock``, flock-based) guarantees mutual exclusion and is
released by the kernel when a process dies, so a lock left by a crashed
process is taken over safely by construction. Beside it a small JSON lease
records pid, host, command and time, so a waiting process can name the holder
when it gives up.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stackctl.errors import LockError

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


@contextmanager
def store_lock(lock_dir: Path, what: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of the store kept in ``lock_dir`` for the ``with`` block."""
    from filelock import FileLock, Timeout

    lock_dir.mkdir(parents=True, exist_ok=True)
    lease = lock_dir / "lock.json"
    lock = FileLock(str(lock_dir / "lock"))
    wait = lock_timeout() if timeout is None else timeout
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise LockError(
            f"Could not lock {what} within {wait:g}s: it is held by {_describe_holder(lease)}.",
            hint="Wait for that command to finish, or raise STACKCTL_LOCK_TIMEOUT.",
        ) from None
    try:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200],
            "time": time.time(),
        }
        lease.write_text(json.dumps(record))
        yield
    finally:
        try:
            lease.unlink(missing_ok=True)
        finally:
            lock.release()
