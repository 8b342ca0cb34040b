"""Where the core's human messages go: the ``stackctl`` logger, printed to stderr.

The core only logs; the CLI and the Python API install the one handler here,
which prints each message as a plain line on stderr (warnings in yellow on a
colour terminal), so both faces show the same words the same way.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

LOGGER_NAME = "stackctl"


def color_enabled(stream: TextIO) -> bool:
    """Whether to colour what goes to ``stream``: the one rule for every view.

    ``FORCE_COLOR`` (non-empty, not ``0``) forces colour, even in a pipe; otherwise
    ``NO_COLOR`` (any value) or ``TERM=dumb`` turn it off; otherwise only a terminal
    gets colour (never a pipe or a CI log).
    """
    force = os.environ.get("FORCE_COLOR", "")
    if force and force != "0":
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


class MessageHandler(logging.Handler):
    """Core messages → stderr; warnings in yellow on a colour terminal."""

    def emit(self, record: logging.LogRecord) -> None:
        import typer

        text = record.getMessage()
        color = color_enabled(sys.stderr)
        if record.levelno >= logging.WARNING and color:
            text = typer.style(text, fg="yellow")
        typer.echo(text, err=True, color=color)


def setup_logging(*, keep_existing: bool = False) -> None:
    """Print the ``stackctl`` logger's messages on stderr.

    With ``keep_existing`` (the Python API) a logger the application already
    configured is left alone.
    """
    log = logging.getLogger(LOGGER_NAME)
    if keep_existing and log.handlers:
        return
    if not any(isinstance(h, MessageHandler) for h in log.handlers):
        log.handlers = [MessageHandler()]
    log.setLevel(logging.INFO)
    log.propagate = False
