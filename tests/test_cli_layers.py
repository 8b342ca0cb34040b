"""The CLI's layering, read from its source: commands ask the engine, never a store.

A command parses, calls one core function and hands the value to a view; store
internals (how a store fingerprints, writes files or talks SQL) stay behind the
workspace and the engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stackctl.cli

CLI = Path(stackctl.cli.__file__).parent
STORE_INTERNALS = {"fingerprint", "atomic_write", "SqlStore", "redact_url"}


def _imports(path: Path) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return found


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_the_cli_imports_no_store_internals(path: Path) -> None:
    imports = _imports(path)
    assert not [m for m, _ in imports if m.startswith(("stackctl.stores", "stackctl.fingerprint"))]
    assert not [n for _, n in imports if n in STORE_INTERNALS]


def test_the_probe_sees_a_store_import(tmp_path: Path) -> None:
    """The check can fail."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from stackctl.stores.files import atomic_write\n")
    assert _imports(sample) == [("stackctl.stores.files", "atomic_write")]


def test_no_global_exit_code() -> None:
    """`diff` raises its own exit code (CommandFailed); nothing is set module-wide."""
    from stackctl.cli import main

    assert not hasattr(main, "error_exit_code")
