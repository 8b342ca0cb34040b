"""Usage errors read as they did on Click: the same usage line, hint and message.

Typer 0.29 words some of them differently (a ``{NAME}`` usage line, pydantic's
"Value error, …" in front of a bad choice); stackctl keeps Click's words.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("args", "usage", "message"), [
    (["stack", "list", "--format", "xml"], "stackctl stack list [OPTIONS]",
     "Invalid value for '--format': 'xml' is not one of 'table', 'json'."),
    (["plan", "--format", "nope"], "stackctl plan [OPTIONS] [PATHS]...",
     "Invalid value for '--format': 'nope' is not one of 'text', 'json', 'markdown'."),
    (["profile", "create", "x", "-t", "nope"], "stackctl profile create [OPTIONS] NAME",
     "Invalid value for '--store-type' / '-t': 'nope' is not one of 'local', 'sql'."),
    (["stack", "register"], "stackctl stack register [OPTIONS] NAME",
     "Missing argument 'NAME'."),
    (["stack", "copy", "a"], "stackctl stack copy [OPTIONS] NAME NEW_NAME",
     "Missing argument 'NEW_NAME'."),
    (["nosuch"], "stackctl [OPTIONS] COMMAND [ARGS]...", "No such command 'nosuch'."),
])
def test_usage_errors(run, args: list[str], usage: str, message: str) -> None:
    result = run(*args)
    assert result.rc == 2
    command = usage.split(" [OPTIONS]", maxsplit=1)[0]
    assert result.stderr == (f"Usage: {usage}\nTry '{command} --help' for help.\n\n"
                             f"Error: {message}\n")
    assert result.stdout == ""


def test_a_group_without_a_command_shows_its_help(run) -> None:
    result = run("stack")
    assert result.rc == 2
    assert result.stderr.startswith("Usage: stackctl stack [OPTIONS] COMMAND [ARGS]...\n\n"
                                    "  Register, list, activate, copy and delete stacks.\n")
    assert "Commands:\n  copy " in result.stderr
