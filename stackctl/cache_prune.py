"""Keeps the cache directory bounded: removes cache files no run has used for a while.

One rule for both caches (``read-cache/``, ``validators/``): a file not read or
written for ``MAX_IDLE_DAYS`` goes, a read cache whose store root is gone goes, and
each cache keeps at most ``MAX_BYTES``, least recently used first. Use is the file's
mtime: writes set it, readers bump it (``mark_used``, at most once a day). Pruning
runs only after a cache write, at most once a day per cache directory (a stamp file),
and never raises: any OSError skips a file or the whole pass. A file removed under a
concurrent reader is a plain read for it (both caches treat a vanished file so).
Nothing outside the cache directory is touched: no symlink is followed or removed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

from stackctl.cache_dir import READ_CACHE, VALIDATORS

DAY = 86400.0
# A month spans release cycles, holidays and monthly jobs, so a cache still in use
# survives; a dropped one costs only one cold run, while a dead one holds MBs forever.
MAX_IDLE_DAYS = 30
# A generous cap: a 100,000-component store's read cache is tens of MiB.
MAX_BYTES = 512 * 1024 * 1024
STAMP = ".prune-stamp"
# what pruning looks at: each cache's own file names (and atomic_write's leftovers,
# stackctl.stores.files.TMP_PREFIX)
CACHES = {READ_CACHE: ".json", VALIDATORS: ".bin"}


def mark_used(fd: int, st: os.stat_result | None = None) -> None:
    """Record a read of the cache file open as ``fd`` (``st``: its fstat, if known).

    Only when its mtime is a day off: one utime a day, not a metadata write per run.
    """
    with contextlib.suppress(OSError):
        st = st or os.fstat(fd)
        if abs(time.time() - st.st_mtime) > DAY:
            os.utime(fd)


def after_write(directory: Path) -> None:
    """Prune ``directory`` (the cache directory) if no process did in the last day."""
    now = time.time()
    stamp = directory / STAMP
    try:
        with contextlib.suppress(FileNotFoundError):
            # a stamp far in the future (a clock set wrong) must not stop pruning for good
            if abs(now - os.lstat(stamp).st_mtime) < DAY:
                return
        # claimed before the pass, so concurrent writers do not all prune; a stamp
        # that cannot be written means no pruning (not a pass on every write)
        fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.utime(fd)
        finally:
            os.close(fd)
    except OSError:
        return
    prune(directory, now)


def prune(directory: Path, now: float) -> None:
    """Apply the rule to each cache under ``directory`` now; never raises OSError."""
    for name, suffix in CACHES.items():
        with contextlib.suppress(OSError):
            # O_NOFOLLOW: a cache directory that is a symlink is not ours to prune
            fd = os.open(directory / name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                         | os.O_CLOEXEC)
            try:
                _prune_one(fd, suffix, now)
            finally:
                os.close(fd)


def _prune_one(dir_fd: int, suffix: str, now: float) -> None:
    # atomic_write's temp files (it wrote the cache just now: already imported)
    from stackctl.stores.files import TMP_PREFIX

    kept: list[tuple[float, int, str]] = []  # (mtime, size, name)
    for entry in _entries(dir_fd):
        name = entry.name
        if not (name.endswith(suffix) or name.startswith(TMP_PREFIX)):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):  # symlinks and the like: left alone
                continue
            age = now - st.st_mtime
            temp = name.startswith(TMP_PREFIX)
            if (abs(age) > MAX_IDLE_DAYS * DAY or (temp and age > DAY)
                    or (suffix == ".json" and not temp and _root_gone(dir_fd, name))):
                os.unlink(name, dir_fd=dir_fd)
            elif not temp:
                kept.append((st.st_mtime, st.st_size, name))
    total = 0
    for index, (_, size, name) in enumerate(sorted(kept, reverse=True)):
        total += size
        if total > MAX_BYTES and index:  # the newest is kept, however large
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=dir_fd)


def _entries(dir_fd: int) -> list[os.DirEntry[str]]:
    with os.scandir(dir_fd) as listing:
        return list(listing)


def _root_gone(dir_fd: int, name: str) -> bool:
    """Whether the read cache ``name`` records a store root that no longer exists (a
    cache of an older format records none: it ages out)."""
    from stackctl.stores.read_cache import recorded_root

    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                 dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        root = recorded_root(handle.readline(65536))
    if root is None:
        return False
    try:
        os.lstat(root)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError):  # unreadable (not known gone), or a NUL in it
        return False
    return False
