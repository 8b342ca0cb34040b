"""The cyclic garbage collector paused while a large object graph is built.

Compiling manifests and planning allocate millions of small objects and free
almost none; the cyclic GC would rescan them again and again for nothing (a
third of validate's time at 10,000 files). Turning it back on afterwards is not
free either: everything built while it was off sits in the youngest generation,
and the next allocation would trigger a collection scanning all of it (~0.1 s
after a plan of 10,000 components). So on leaving, those objects are moved to
the oldest generation in one step (``gc.freeze`` then ``gc.unfreeze``, no scan):
they stay collectable, by the rare full collections.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic GC off inside; restored as it was (an outer pause keeps it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()  # every tracked object to the permanent generation, then
            gc.unfreeze()  # all of it to the oldest: nothing young left to scan
            gc.enable()
