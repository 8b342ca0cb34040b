"""`stackctl validate` views: text lines, JSON, GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stackctl.compiler.diagnostics import Diagnostic


def shown_path(path: str, cwd: Path | None) -> str:
    """Paths below ``cwd`` relative to it (what editors and GitHub annotations expect)."""
    if cwd is None or not os.path.isabs(path):
        return path
    relative = os.path.relpath(path, cwd)
    return path if relative.startswith("..") else relative


def _relative(diagnostics: Sequence[Diagnostic], cwd: Path | None) -> list[Diagnostic]:
    return [replace(d, location=replace(d.location, path=shown_path(d.location.path, cwd)))
            for d in diagnostics]


def _shown(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Without notes (policy severity ``audit``): they go to JSON, markdown and SARIF only."""
    return [d for d in diagnostics if d.severity != "note"]


SEVERITY_COLORS = {"error": "red", "warning": "yellow"}
HINT_COLOR = "cyan"


def text(diagnostics: Sequence[Diagnostic], cwd: Path | None = None, *,
         color: bool = False) -> str:
    """``file:line:col: severity: message [rule]`` lines, each hint below; ``color``: the
    severity and ``hint:`` coloured (for a terminal)."""
    lines = []
    for d in _relative(_shown(diagnostics), cwd):
        line = str(d)
        if color:
            marker = f": {d.severity}: "
            line = line.replace(marker, f": {paint(d.severity, SEVERITY_COLORS.get(d.severity))}: ",
                                1)
        if d.hint:
            line += f"\n    {paint('hint:', HINT_COLOR) if color else 'hint:'} {d.hint}"
        lines.append(line)
    return "\n".join(lines)


def paint(word: str, color: str | None) -> str:
    """``word`` in bold ``color`` (ANSI)."""
    import typer

    return typer.style(word, fg=color, bold=True) if color else word


def as_json(diagnostics: Sequence[Diagnostic], files: int, documents: int,
            cwd: Path | None = None) -> str:
    return json.dumps({
        "format_version": 1, "valid": not any(d.severity == "error" for d in diagnostics),
        "files": files, "documents": documents,
        "diagnostics": [{"file": d.location.path, "line": d.location.line,
                         "column": d.location.column, "severity": d.severity,
                         "rule": d.rule, "message": d.message, "hint": d.hint}
                        for d in _relative(diagnostics, cwd)],
    }, indent=2)


def _escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(diagnostics: Sequence[Diagnostic], cwd: Path | None = None) -> str:
    """``::error file=…,line=…,col=…,title=…::message`` lines for Actions."""
    lines = []
    for d in _relative(_shown(diagnostics), cwd):
        props = (f"file={_escape(d.location.path, prop=True)},line={d.location.line},"
                 f"col={d.location.column},title={_escape(d.rule, prop=True)}")
        lines.append(f"::{d.severity} {props}::{_escape(d.message)}")
    return "\n".join(lines)


def summary(compiled: Any) -> str:
    """The closing line of ``validate``: what was checked, what was skipped, the verdict."""
    files, documents, n = len(compiled.files), compiled.documents, len(compiled.diagnostics)
    if compiled.project_failed:
        return f"No manifest was read, the project failed: {n} problem{'s' * (n != 1)}."
    text = f"{files} file{'s' * (files != 1)}, {documents} document{'s' * (documents != 1)}"
    if compiled.environments:
        text += f", environments {', '.join(compiled.environments)}"
    text += ": " + ("valid." if not n else f"{n} problem{'s' * (n != 1)}.")
    skipped = len(compiled.skipped)
    if skipped:
        text += f" {skipped} file{'s' * (skipped != 1)} skipped: not stackctl manifests."
    return text
