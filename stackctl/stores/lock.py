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

DEFAULT_TIMEOUT = float(os.environ.get("STACKCTL_LOCK_TIMEOUT", "30"))


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
    wait = DEFAULT_TIMEOUT if timeout is None else timeout
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
