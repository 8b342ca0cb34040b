"""Progress on long work: a rich spinner naming the current step, on a terminal only.

Shown once the work has taken ``AFTER`` seconds (a quick plan stays silent), on
stderr, and never in a pipe, a CI log (``CI`` set), with ``TERM=dumb`` or ``-q``.
The engine reports its steps through the callback; it never prints itself.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

AFTER = 1.0  # seconds of silence before the spinner appears


def wanted(stream: TextIO) -> bool:
    """A terminal a person watches: not CI, not a dumb terminal, not ``--quiet``."""
    quiet = logging.getLogger("stackctl").level > logging.INFO
    return (stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"
            and not quiet)


@contextmanager
def progress(*, enabled: bool | None = None, after: float = AFTER,
             stream: TextIO | None = None) -> Iterator[Callable[[str], None]]:
    """Yield ``step(text)``; after ``after`` seconds a spinner shows the latest step."""
    out = stream or sys.stderr
    if not (wanted(out) if enabled is None else enabled):
        yield lambda text: None
        return
    state: dict[str, Any] = {"text": "Working…", "status": None}
    lock = threading.Lock()

    def show() -> None:
        from rich.console import Console  # only when the work is long: rich costs ~50 ms

        with lock:
            if state.get("done"):
                return
            console = Console(file=out, force_terminal=True if enabled else None)
            state["status"] = console.status(state["text"])
            state["status"].start()

    def step(text: str) -> None:
        with lock:
            state["text"] = text
            if state["status"] is not None:
                state["status"].update(text)

    timer = threading.Timer(after, show)
    timer.daemon = True
    timer.start()
    try:
        yield step
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["status"] is not None:
                state["status"].stop()
