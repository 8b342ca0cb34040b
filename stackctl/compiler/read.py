"""Read one manifest file safely: regular files only, never more than a size limit.

A manifest repository arrives in pull requests, so its files are hostile input:
a FIFO would block a plain ``read`` forever and a symlink to ``/dev/zero``
would fill memory. The file is opened without blocking, checked to be a
regular file on the opened descriptor (no race with a swap), and read up to the
limit plus one byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

from stackctl.compiler.load import ManifestReadError
from stackctl.errors import Location

MAX_FILE_BYTES: Final = 4 * 1024 * 1024


def read_regular(path: Path) -> bytes:
    """The bytes of path, if it is a regular file of at most MAX_FILE_BYTES."""
    where = Location(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise ManifestReadError(f"cannot read manifest: {exc.strerror or exc}",
                                location=where) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ManifestReadError(
                "not a regular file (a device, FIFO or socket): only regular files are read",
                location=where, hint="remove it, or move it out of the manifest directories")
        chunks: list[bytes] = []
        size = 0
        # Reads as large as the file (plus one byte, to meet its end), not as the limit:
        # a 4 MiB request for a 500-byte file costs the allocator an mmap and a shrink,
        # and held buffers of that kind slowed a compile of 10,000 files by ~100 ms.
        # A file growing meanwhile is still read to its end or to the limit.
        step = min(st.st_size, MAX_FILE_BYTES) + 1
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(step, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ManifestReadError(f"cannot read manifest: {exc.strerror or exc}",
                                location=where) from exc
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise ManifestReadError(f"file is larger than {MAX_FILE_BYTES} bytes, the limit for a "
                                "manifest", location=where,
                                hint="split it into several files")
    return b"".join(chunks)
