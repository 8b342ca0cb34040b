"""Build (once) and find a Python 3.8 venv with the real ZenML 0.10.0, for interop tests and bench.

The pins travel with the tests (``tests/zenml/requirements.txt`` and ``constraints.txt``,
copied from the reference material); the venv is built into a cache directory keyed by
a hash of those pins and of the interpreter, so a changed pin builds a fresh venv and an
unchanged one is reused across runs. A marker file written after ZenML imports marks a
finished venv, so an interrupted build is never mistaken for a finished one.

Run ``python tests/zenml_env.py`` to build it ahead of the tests (it prints the venv path).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

PINS_DIR = Path(__file__).resolve().parent / "zenml"
REQUIREMENTS = PINS_DIR / "requirements.txt"
CONSTRAINTS = PINS_DIR / "constraints.txt"
# The interpreter ZenML 0.10 supports on this machine kind (pyenv; called directly,
# because the pyenv shim needs a pyenv setting). STACKCTL_PYTHON38 overrides it.
DEFAULT_PYTHON38 = "/root/.pyenv/versions/3.8.18/bin/python3.8"


class ZenmlUnavailableError(Exception):
    """Python 3.8 (or the packages) to build the ZenML venv is not on this machine."""


def python38() -> str | None:
    """The Python 3.8 interpreter to build with, or None when there is none."""
    candidate = os.environ.get("STACKCTL_PYTHON38") or DEFAULT_PYTHON38
    if Path(candidate).is_file() and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("python3.8")


def cache_root() -> Path:
    """Where built venvs live: ``$STACKCTL_TEST_CACHE`` or ``~/.cache/stackctl-test``."""
    configured = os.environ.get("STACKCTL_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "stackctl-test"


def venv_key(interpreter: str) -> str:
    """A short hash of the pins and the interpreter: a changed pin means a new venv."""
    digest = hashlib.sha256()
    digest.update(REQUIREMENTS.read_bytes())
    digest.update(b"\0")
    digest.update(CONSTRAINTS.read_bytes())
    digest.update(b"\0")
    digest.update(str(Path(interpreter).resolve()).encode())
    return digest.hexdigest()[:16]


def venv_dir(interpreter: str) -> Path:
    return cache_root() / f"zenml-0.10-venv-{venv_key(interpreter)}"


def _complete(venv: Path) -> bool:
    return (venv / ".complete").is_file() and (venv / "bin" / "zenml").is_file()


def ensure_venv() -> Path:
    """The path of a finished ZenML 0.10 venv, building it first when needed.

    Raises ZenmlUnavailableError when there is no Python 3.8; a failing pip install raises
    CalledProcessError with pip's output (a real failure, not a reason to skip).
    """
    interpreter = python38()
    if interpreter is None:
        raise ZenmlUnavailableError(
            f"Python 3.8 not found (looked at {DEFAULT_PYTHON38}, $STACKCTL_PYTHON38 and "
            "PATH); it is needed to build the ZenML 0.10 venv")
    target = venv_dir(interpreter)
    if _complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time: pytest-xdist workers ask at once on a fresh machine, and one
    # wiping the venv another is installing into fails both.
    from filelock import FileLock

    with FileLock(str(target.with_name(target.name + ".lock"))):
        if not _complete(target):  # built by another while this one waited
            _build(interpreter, target)
    return target


def _build(interpreter: str, target: Path) -> None:
    # A venv hard-codes its own path in its scripts, so it cannot be built elsewhere and
    # renamed into place; it is built in place, and ".complete" (written last) marks a
    # finished one: a half-built venv lacks it and is wiped and rebuilt.
    if target.exists():
        shutil.rmtree(target)
    subprocess.run([interpreter, "-m", "venv", str(target)], check=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS), "-c", str(CONSTRAINTS)], check=True)
    subprocess.run([str(target / "bin" / "python"), "-c", "import zenml"], check=True,
                   env={**os.environ, "ZENML_ANALYTICS_OPT_IN": "false"})
    (target / ".complete").write_text(venv_key(interpreter) + "\n")


if __name__ == "__main__":
    try:
        print(ensure_venv())
    except ZenmlUnavailableError as error:
        print(error, file=sys.stderr)
        sys.exit(2)
