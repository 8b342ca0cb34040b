"""How every stackctl command group is made: one Typer configuration, in one place.

``new_app`` gives a Typer app with plain (not rich) help, no pretty tracebacks
and ``-h``/``--help``; its click group is ``Group``, which imports a subcommand
only when it runs (``lazy``) and keeps plain parameters off pydantic (``fast_params``).
``one_of`` is the ``--format``-style choice parser with Click's exact error.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click import Context

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class CommandFailed(Exception):  # noqa: N818 - it is the failure itself, carried out
    """A command's error with the command's own exit code (``diff``: 2, as its 1
    means "differences"); ``main`` shows ``error`` as any StackctlError."""

    def __init__(self, error: Exception, *, exit_code: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.exit_code = exit_code


def fast_params(command: Any, ctx: Context) -> None:
    """Give ``command``'s plain parameters a coercion that needs no pydantic.

    Typer 0.29 builds a pydantic TypeAdapter for every parameter it processes, even
    an absent ``--help`` (value None); importing pydantic and building adapters
    costs ~100 ms per command. Flags (bool), text (str), lists of text, choices
    with our own ``parser`` and plain counts (int) need none of it: their values
    arrive as str or bool already. Anything else (paths, an environment variable's
    text for a flag, a count that is not plain digits within its bounds: its error
    message is Typer's) goes to Typer's own coercion. If this Typer's internals differ, nothing
    is changed: start-up is only slower, which tests/test_startup.py reports.
    """
    try:
        from typer._coercion import build_runtime_param
        from typer.core import _TyperParameter
    except ImportError:  # pragma: no cover - another Typer: keep its own behaviour
        return
    params = list(getattr(command, "params", ()))
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        params.append(help_option)
    for param in params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            descriptor = param.type_descriptor
            kind = _PLAIN.get(descriptor.annotation)
            parser = descriptor.parameter_info.parser
            if kind is not None or parser is not None:
                plain = _PlainParam(kind or str, parser, descriptor, build_runtime_param)
                param._runtime_param = plain  # type: ignore[assignment]


_PLAIN = {bool: bool, str: str, list[str]: list, int: int}


class _PlainParam:
    """Coercion of a flag, a text, a list of texts, a parsed choice or a plain count,
    without pydantic."""

    def __init__(self, kind: type, parser: Callable[[str], Any] | None, descriptor: Any,
                 build: Callable[[Any], Any]) -> None:
        self.kind, self.parser, self.descriptor, self.build = kind, parser, descriptor, build

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        if self.kind is bool and isinstance(value, bool):
            return value
        if self.kind is str and isinstance(value, str):
            return self.parser(value) if self.parser else value
        if (self.kind is list and isinstance(value, (list, tuple))
                and all(isinstance(v, str) for v in value)):
            return list(value)
        if self.kind is int and (type(value) is int or (
                isinstance(value, str) and value.isascii() and value.isdigit())):
            info = self.descriptor.parameter_info
            number = int(value)
            if ((info.min is None or number >= info.min)
                    and (info.max is None or number <= info.max) and not info.clamp):
                return number
        return self.build(self.descriptor).coerce(value, param=param, ctx=ctx)


def usage_pieces(command: Any, ctx: Context) -> list[str]:
    """The usage line as Click writes it: ``[OPTIONS] NAME [PATHS]...`` (Typer writes
    required arguments as ``{NAME}``); error messages quote it."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if param.param_type_name != "argument":
            continue
        name = param.metavar or param.name.upper()
        name = name if param.required else f"[{name}]"
        pieces.append(name + ("..." if param.nargs != 1 else ""))
    return pieces


class Command(TyperCommand):
    """A leaf command: Click's usage line, plain parameters without pydantic."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return usage_pieces(self, ctx)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        fast_params(self, ctx)
        return super().parse_args(ctx, args)


class App(typer.Typer):
    """A Typer app whose commands are ``Command``s."""

    # the same signature as Typer's, with our default cls
    def command(  # type: ignore[override]
            self, name: str | None = None, *, cls: type[TyperCommand] | None = None,
            **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return super().command(name, cls=cls or Command, **kwargs)


class Group(TyperGroup):
    """A Typer group with lazily imported subcommands.

    ``lazy`` maps a command name to ("module:attribute", one-line help); the
    attribute is a Typer app. ``--help`` lists them from the table, importing none.
    """

    lazy: dict[str, tuple[str, str]] = {}  # noqa: RUF012 - set by subclasses, read-only

    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: Context, cmd_name: str) -> Any:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            target, _ = self.lazy[cmd_name]
            module_name, attr = target.split(":")
            app = getattr(importlib.import_module(module_name), attr)
            command = typer.main.get_command(app)
            command.name = cmd_name
            self.commands[cmd_name] = command
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        fast_params(self, ctx)
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: Context, formatter: Any) -> None:
        rows = {name: help_ for name, (_, help_) in self.lazy.items()}
        shown = {n: c for n, c in self.commands.items() if n not in rows and not c.hidden}
        if shown:  # Click's limit: the rest of the line after the longest name
            limit = formatter.width - 6 - max(map(len, [*shown, *rows]))
            rows.update({n: c.get_short_help_str(limit) for n, c in shown.items()})
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows.items()))


def new_app(help_: str | None = None, *, name: str | None = None,
            cls: type[Group] = Group, completion: bool = False) -> App:
    """A command group as every stackctl group is: plain help, no rich, -h/--help.

    A group without a subcommand shows its help (exit 2), as Click groups do;
    ``completion`` (the root) adds --install-completion and --show-completion.
    """
    # name and help only when given: otherwise Typer takes them from the callback
    named: dict[str, Any] = {k: v for k, v in (("name", name), ("help", help_)) if v}
    return App(cls=cls, rich_markup_mode=None, pretty_exceptions_enable=False,
               add_completion=completion, no_args_is_help=True, context_settings=HELP_OPTIONS,
               **named)


def examples(*lines: str) -> str:
    """A help page's epilog: example command lines, kept as written (Click's ``\\b``)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def confirm(question: str) -> None:
    """Ask ``question [y/N]:`` on stderr (stdout is for data); unless the answer is
    y/yes, abort. (Typer's confirm echoes the prompt's last space to stdout.)"""
    import sys

    typer.echo(f"{question} [y/N]: ", nl=False, err=True)
    answer = sys.stdin.readline()
    if not answer:  # end of input
        typer.echo(err=True)
    if answer.strip().lower() not in ("y", "yes"):
        raise typer.Abort


def one_of(*choices: str) -> Callable[[str], str]:
    """A parser for a choice option, failing with Click's message (not pydantic's)."""

    def parse(value: str) -> str:
        if value in choices:
            return value
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(map(repr, choices))}.")

    return parse
