"""Render ``*.j2`` manifests in a Jinja2 sandbox; read the variables they are given.

Templates see two names: ``vars`` (project vars, environment, var files, then
``--var``) and ``env`` (the process environment). Errors name the template file
and the template line; YAML errors in the output name the template file too.

Offline rendering (``validate``): an unset ``env.X`` renders as a placeholder
(``placeholder("X")``) instead of failing, so validation never needs a secret; the
compiler then reports placeholders that land where no text can be valid.
Rendering is bounded: output size and time per file (``template-limit``).
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Final

from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.load import (
    Document,
    NotAMappingError,
    decode_utf8,
    load_file,
    load_text,
)
from stackctl.errors import Location, ManifestError, UsageError

# Rendered text per file: far above any real manifest, far below exhausting memory.
OUTPUT_LIMIT: Final = 4 * 1024 * 1024
# Seconds one file may take to render (both limits are module values so tests can
# lower them; nothing reads them from the environment).
TIME_LIMIT: float = 5.0
# What an unset env.X renders as when validating offline; the compiler finds it again.
# Marks that YAML takes as plain text anywhere (even in flow mappings) and no manifest holds.
OPEN, CLOSE = "\u2039", "\u203a"
PLACEHOLDER: Final = re.compile(OPEN + r"env\.([^" + CLOSE + "]*)" + CLOSE, re.IGNORECASE)


class TemplateUndefinedError(ManifestError):
    """A template uses a variable or attribute nobody defined; ``problems`` lists every use."""

    rule = "template-undefined"

    def __init__(self, problems: list[Diagnostic]) -> None:
        first = problems[0]
        super().__init__(first.message, location=first.location, hint=first.hint)
        self.problems = problems


class TemplateSyntaxError(ManifestError):
    """A template is not valid Jinja2."""

    rule = "template-syntax"


class TemplateSecurityError(ManifestError):
    """A template reached for something the sandbox forbids."""

    rule = "template-security"


class TemplateRuntimeError(ManifestError):
    """A template failed while rendering (a bad filter argument, 1/0...)."""

    rule = "template-error"


class TemplateLimitError(ManifestError):
    """A template produced too much output, took too long, or recursed without end."""

    rule = "template-limit"


class VarFileError(ManifestError):
    """A ``--var-file`` does not hold exactly one mapping."""

    rule = "var-file"


def placeholder(name: str) -> str:
    """The text an unset ``env.name`` renders as when validating offline."""
    return f"{OPEN}env.{name}{CLOSE}"


def render_template(
    path: Path, text: str, variables: Mapping[str, Any], environ: Mapping[str, str],
    *, offline: bool = False,
) -> str:
    """Render text (the template read from path) in an immutable, bounded sandbox.

    ``offline``: an unset ``env.X`` renders as ``placeholder(X)`` instead of failing.
    """
    import jinja2  # imported here: stackctl --help must not pay for Jinja2
    from jinja2.exceptions import SecurityError

    name = str(path)
    env_map: dict[str, Any] = (_offline_environ_class()(environ) if offline else dict(environ))
    vars_map = dict(variables)
    environment = _environment(name, text, jinja2.StrictUndefined)
    try:
        template = environment.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(
            f"template syntax error: {exc.message}",
            location=Location(name, exc.lineno),
            hint="see https://jinja.palletsprojects.com/en/stable/templates/",
        ) from exc
    try:
        return _render(template, vars_map, env_map)
    except TemplateLimitError as exc:
        raise _located(TemplateLimitError, exc.message, exc, text, name,
                       hint=exc.hint) from exc
    except (RecursionError, MemoryError) as exc:
        what = ("recursion is too deep (a macro that calls itself without end?)"
                if isinstance(exc, RecursionError) else "ran out of memory")
        raise _located(TemplateLimitError, f"template {what}", exc, text, name,
                       hint=_LIMIT_HINT) from None
    except SecurityError as exc:
        raise _located(
            TemplateSecurityError,
            f"template is not allowed to do this: {exc}",
            exc,
            text,
            name,
            hint="templates run sandboxed: use only variables, filters and plain attributes",
        ) from exc
    except jinja2.UndefinedError as exc:
        problems = _every_undefined(name, text, vars_map, env_map)
        if not problems:
            problems = [_undefined_diagnostic(_template_line(exc.__traceback__, name),
                                              str(exc), text, name)]
        raise TemplateUndefinedError(problems) from exc
    # A failing template is the user's input failing, not a bug in stackctl.
    except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        message = f"template failed: {type(exc).__name__}: {exc}"
        raise _located(TemplateRuntimeError, message, exc, text, name) from exc


_LIMIT_HINT = (f"a manifest template may render at most {OUTPUT_LIMIT // (1024 * 1024)} MiB "
               "of text within a few seconds")


class _Budget:
    """The output and time a render may still use; checked from the sandbox's hooks."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + TIME_LIMIT

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"template took longer than {TIME_LIMIT:g} seconds to "
                                     "render", hint=_LIMIT_HINT)

    @staticmethod
    def check_size(size: int) -> None:
        if size > OUTPUT_LIMIT:
            raise TemplateLimitError(f"template output would exceed {OUTPUT_LIMIT} characters",
                                     hint=_LIMIT_HINT)


def _render(template: Any, vars_map: dict[str, Any], env_map: dict[str, Any]) -> str:
    budget = _Budget()
    template.environment.budget = budget
    chunks: list[str] = []
    size = 0
    with _alarm(budget):
        for chunk in template.generate(vars=vars_map, env=env_map):
            size += len(chunk)
            budget.check_size(size)
            budget.check_time()
            chunks.append(chunk)
    return "".join(chunks)


@contextmanager
def _alarm(budget: _Budget) -> Iterator[None]:
    """A timer that interrupts a render stuck where no hook runs (an empty nested loop).

    Signals reach the main thread only; elsewhere the sandbox hooks alone keep time.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        budget.deadline = 0.0
        budget.check_time()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT + 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# A width or precision in a format string: "%10000s", "{:>10000}".
_FORMAT_WIDTH = re.compile(r"(?:%[-#0 +]*|\{[^{}]*:[^{}]*?)(\d{6,})")


def _check_format(fmt: object) -> None:
    if isinstance(fmt, str):
        for match in _FORMAT_WIDTH.finditer(fmt):
            _Budget.check_size(int(match.group(1)))


def _check_binop(operator: str, left: Any, right: Any) -> None:
    sized = (str, list, tuple, bytes)
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, sized) and isinstance(count, int):
                _Budget.check_size(len(seq) * count)
    elif operator == "+" and isinstance(left, sized) and isinstance(right, sized):
        _Budget.check_size(len(left) + len(right))
    elif operator == "%":
        _check_format(left)
    elif (operator == "**" and isinstance(left, int) and isinstance(right, int)
          and abs(left) > 1 and right > 10_000):
        raise TemplateLimitError("template computes a number too large to write",
                                 hint=_LIMIT_HINT)


# str methods whose result grows with an integer argument
_PADDING = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


@cache
def _sandbox_class() -> type[Any]:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        """The immutable sandbox, with every operation that can grow text checked."""

        intercepted_binops = frozenset({"*", "+", "%", "**"})
        budget: _Budget

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            self.budget.check_time()
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            __self.budget.check_time()
            # the sandbox hands str.format out wrapped (functools.update_wrapper)
            target = getattr(__obj, "__wrapped__", __obj)
            owner = getattr(target, "__self__", None)
            if isinstance(owner, str):
                method = getattr(target, "__name__", "")
                if method in _PADDING:
                    for arg in (*args, *kwargs.values()):
                        if isinstance(arg, int):
                            _Budget.check_size(arg)
                elif method in ("format", "format_map"):
                    _check_format(owner)
                elif method in ("replace", "join") and args:
                    sizes = [len(a) for a in args if isinstance(a, (str, list, tuple))]
                    _Budget.check_size(len(owner) * (1 + max(sizes, default=0)))
            return super().call(__context, __obj, *args, **kwargs)

    return BoundedSandbox


def _bounded_filters(filters: dict[str, Any]) -> None:
    """Wrap the built-in filters whose output grows with an argument."""
    indent, center, fmt, replace = (filters["indent"], filters["center"], filters["format"],
                                    filters["replace"])

    def bounded_indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> Any:
        if isinstance(width, int):
            _Budget.check_size(width * (str(s).count("\n") + 1))
        return indent(s, width, first, blank)

    def bounded_center(value: Any, width: int = 80) -> Any:
        _Budget.check_size(width)
        return center(value, width)

    def bounded_format(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_format(value)
        return fmt(value, *args, **kwargs)

    def bounded_replace(ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        _Budget.check_size(len(str(s)) * (1 + len(str(new))))
        return replace(ctx, s, old, new, count)

    import jinja2

    filters["indent"] = bounded_indent
    filters["center"] = bounded_center
    filters["format"] = bounded_format
    filters["replace"] = jinja2.pass_eval_context(bounded_replace)


class _TimedRange:
    """``range`` that keeps time while a loop runs over it (an empty nested loop
    never reaches another hook)."""

    def __init__(self, budget_of: Any, values: range) -> None:
        self._environment = budget_of
        self._values = values

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[int]:
        budget = self._environment.budget
        for index, value in enumerate(self._values):
            if not index & 255:
                budget.check_time()
            yield value


def _environment(name: str, text: str, undefined: type[Any]) -> Any:
    import jinja2

    # The loader knows this one template only, under its own file name: Jinja
    # then reports that name in tracebacks, and {% include %} finds nothing.
    loader = jinja2.FunctionLoader(lambda n: (text, name, lambda: True) if n == name else None)
    environment = _sandbox_class()(
        undefined=undefined, keep_trailing_newline=True, autoescape=False, loader=loader)
    environment.budget = _Budget()
    to_json = environment.filters["tojson"]

    @jinja2.pass_eval_context
    def strict_tojson(context: Any, value: Any, indent: int | None = None) -> Any:
        if isinstance(value, jinja2.Undefined):
            # StrictUndefined raises the UndefinedError naming what is missing; a
            # placeholder becomes its text
            value = str(value)
        return to_json(context, value, indent)

    environment.filters["tojson"] = strict_tojson  # export writes {{ env.X | tojson }}
    _bounded_filters(environment.filters)
    safe_range = environment.globals["range"]
    environment.globals["range"] = lambda *a: _TimedRange(environment, safe_range(*a))
    return environment


@cache
def _offline_environ_class() -> type[dict[str, Any]]:
    import jinja2

    class Placeholder(jinja2.Undefined):
        """An unset ``env.X`` while validating: renders as text that says so."""

        __slots__ = ()

        def __str__(self) -> str:
            return placeholder(str(self._undefined_name))

        def __add__(self, other: Any) -> Any:
            return str(self) + str(other)

        def __radd__(self, other: Any) -> Any:
            return str(other) + str(self)

        def __int__(self) -> int:  # type: ignore[override]
            raise ValueError("an unset variable has no number")  # | int gives its default

        def __float__(self) -> float:  # type: ignore[override]
            raise ValueError("an unset variable has no number")

    class OfflineEnviron(dict[str, Any]):
        def __missing__(self, key: str) -> Any:
            return Placeholder(obj=self, name=key)

    return OfflineEnviron


def _every_undefined(name: str, text: str, vars_map: dict[str, Any],
                     env_map: dict[str, Any]) -> list[Diagnostic]:
    """Render again, leniently, to find every use of an undefined name, not only the first."""
    import jinja2

    uses: dict[tuple[int, str], None] = {}

    class Collecting(jinja2.ChainableUndefined):
        __slots__ = ()

        def _record(self) -> None:
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename != name:
                frame = frame.f_back  # type: ignore[assignment]
            line = template.get_corresponding_lineno(frame.f_lineno) if frame else 0
            uses[(line, self._label())] = None

        def _label(self) -> str:
            obj, attr = self._undefined_obj, self._undefined_name
            if obj is vars_map:
                return f"vars.{attr}"
            if obj is env_map:
                return f"env.{attr}"
            return str(attr)

        def __str__(self) -> str:
            self._record()
            return ""

        def __iter__(self) -> Iterator[Any]:
            self._record()
            return iter(())

        def __bool__(self) -> bool:
            self._record()
            return False

    template = _environment(name, text, Collecting).get_template(name)
    # what was found before another failure still counts
    with contextlib.suppress(Exception):
        _render(template, vars_map, env_map)
    return [_undefined_diagnostic(line, label, text, name) for line, label in sorted(uses)]


def _undefined_diagnostic(line: int, label: str, text: str, name: str) -> Diagnostic:
    lines = text.splitlines()
    word = label.rsplit(".", 1)[-1]
    error = label if "'" in label else f"'{word}' is undefined"
    column = _column(lines[line - 1], error) if 0 < line <= len(lines) else 0
    where = Location(name, line, column)
    if label.startswith("env."):
        variable = label[4:]
        return Diagnostic(where, TemplateUndefinedError.rule,
                          f"environment variable {variable} is not set ({label})",
                          hint=f"export {variable}=… before running plan or apply "
                          "(validate needs no value)")
    if label.startswith("vars."):
        return Diagnostic(where, TemplateUndefinedError.rule, f"undefined variable {label}",
                          hint=f"define it (project vars, -e/--env, --var-file, "
                          f"--var {label[5:]}=…), or give a default: "
                          f"{{{{ {label} | default('…') }}}}")
    message = f"undefined name '{label}'" if "'" not in label else \
        f"undefined in template: {label}"
    return Diagnostic(where, TemplateUndefinedError.rule, message,
                      hint="templates see `vars` and `env`; give a default: "
                      "{{ x | default('y') }}")


def load_template(
    path: Path, variables: Mapping[str, Any], environ: Mapping[str, str]
) -> list[Document]:
    """Read, render and load a ``*.j2`` manifest; YAML errors name the template."""
    from stackctl.compiler.read import read_regular

    rendered = render_template(path, decode_utf8(read_regular(path), path), variables, environ)
    return load_text(rendered, path, rendered=True)


def parse_var(text: str) -> tuple[str, str]:
    """Split one ``--var KEY=VALUE`` option; the value may itself hold '='."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(
            f"--var {text!r} is not KEY=VALUE", hint="for example: --var bucket=ml-dev"
        )
    return key.strip(), value


def load_var_file(path: Path) -> dict[str, Any]:
    """The variables of a ``--var-file``: one YAML mapping (an empty file is none)."""
    try:
        documents = load_file(path)
    except NotAMappingError as exc:
        raise NotAMappingError(
            exc.message, location=exc.location, hint="a var file holds one mapping: name: value"
        ) from exc
    if len(documents) > 1:
        raise VarFileError(
            "a var file holds one YAML document, this one has more",
            location=Location(str(path), documents[1].line, documents[1].column),
            hint="merge the documents into one mapping",
        )
    return dict(documents[0].data) if documents else {}


def _located(
    cls: type[ManifestError],
    message: str,
    exc: BaseException,
    text: str,
    name: str,
    *,
    hint: str | None = None,
) -> ManifestError:
    line = _template_line(exc.__traceback__, name)
    lines = text.splitlines()
    column = _column(lines[line - 1], str(exc)) if 0 < line <= len(lines) else 0
    return cls(message, location=Location(name, line, column), hint=hint)


def _template_line(tb: TracebackType | None, name: str) -> int:
    # Jinja rewrites tracebacks so template frames carry the template's file
    # name and line; the innermost such frame is where rendering failed.
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# The name an error is about: "'x' is undefined", "... has no attribute 'x'",
# "access to attribute 'x' of 'str' object is unsafe."
_ERROR_NAME = re.compile(r"^'([^']+)' is undefined|(?:attribute|element) '([^']+)'")
_EXPRESSION = re.compile(r"\{\{.*?(?:\}\}|$)|\{%.*?(?:%\}|$)")


def _column(line: str, error: str) -> int:
    """1-based column of the name the error is about, inside a Jinja tag; 0 if unsure."""
    match = _ERROR_NAME.search(error)
    if match is None:
        return 0
    word = re.compile(rf"(?<!\w){re.escape(match.group(1) or match.group(2))}(?!\w)")
    for expression in _EXPRESSION.finditer(line):
        found = word.search(line, expression.start(), expression.end())
        if found is not None:
            return found.start() + 1
    return 0
