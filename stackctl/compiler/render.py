"""Render ``*.j2`` manifests in a Jinja2 sandbox; read the variables they are given.

Templates see two names: ``vars`` (project vars, environment, var files, then
``--var``) and ``env`` (the process environment). Errors name the template file
and the template line; YAML errors in the output name the template file too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from stackctl.compiler.load import (
    Document,
    ManifestReadError,
    NotAMappingError,
    decode_utf8,
    load_file,
    load_text,
)
from stackctl.errors import Location, ManifestError, UsageError


class TemplateUndefinedError(ManifestError):
    """A template uses a variable or attribute nobody defined."""

    rule = "template-undefined"


class TemplateSyntaxError(ManifestError):
    """A template is not valid Jinja2."""

    rule = "template-syntax"


class TemplateSecurityError(ManifestError):
    """A template reached for something the sandbox forbids."""

    rule = "template-security"


class TemplateRuntimeError(ManifestError):
    """A template failed while rendering (a bad filter argument, 1/0...)."""

    rule = "template-error"


class VarFileError(ManifestError):
    """A ``--var-file`` does not hold exactly one mapping."""

    rule = "var-file"


def render_template(
    path: Path, text: str, variables: Mapping[str, Any], environ: Mapping[str, str]
) -> str:
    """Render text (the template read from path) in an immutable sandbox."""
    import jinja2  # imported here: stackctl --help must not pay for Jinja2
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    name = str(path)
    # The loader knows this one template only, under its own file name: Jinja
    # then reports that name in tracebacks, and {% include %} finds nothing.
    loader = jinja2.FunctionLoader(lambda n: (text, name, lambda: True) if n == name else None)
    environment = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        loader=loader,
    )
    to_json = environment.filters["tojson"]

    @jinja2.pass_eval_context
    def strict_tojson(context: Any, value: Any, indent: int | None = None) -> Any:
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises the UndefinedError naming what is missing
        return to_json(context, value, indent)

    environment.filters["tojson"] = strict_tojson  # export writes {{ env.X | tojson }}
    try:
        return environment.get_template(name).render(vars=dict(variables), env=dict(environ))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(
            f"template syntax error: {exc.message}",
            location=Location(name, exc.lineno),
            hint="see https://jinja.palletsprojects.com/en/stable/templates/",
        ) from exc
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
        raise _located(
            TemplateUndefinedError,
            f"undefined in template: {exc}",
            exc,
            text,
            name,
            hint="define it (project vars, -e/--env, --var-file, --var K=V), "
            "or give a default: {{ vars.x | default('y') }}",
        ) from exc
    # A failing template is the user's input failing, not a bug in stackctl.
    except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        message = f"template failed: {type(exc).__name__}: {exc}"
        raise _located(TemplateRuntimeError, message, exc, text, name) from exc


def load_template(
    path: Path, variables: Mapping[str, Any], environ: Mapping[str, str]
) -> list[Document]:
    """Read, render and load a ``*.j2`` manifest; YAML errors name the template."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"cannot read template: {exc.strerror or exc}"
        raise ManifestReadError(message, location=Location(str(path))) from exc
    rendered = render_template(path, decode_utf8(raw, path), variables, environ)
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
