"""Where stackctl keeps its caches: only accelerators, never state, safe to delete.

``$STACKCTL_CACHE_DIR``, else ``$XDG_CACHE_HOME/stackctl``, else ``~/.cache/stackctl``.
Kept bounded by ``stackctl.cache_prune`` (unused entries go after a cache write).
"""

from __future__ import annotations

import os
from pathlib import Path

# each cache's subdirectory, named once: its writer and stackctl.cache_prune use these
READ_CACHE = "read-cache"
VALIDATORS = "validators"


def cache_dir() -> Path:
    return Path(os.environ.get("STACKCTL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "stackctl"))
