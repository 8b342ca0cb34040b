"""Progress on long work: a spinner on a terminal after a second, never in pipes or CI."""

from __future__ import annotations

import io
import logging
import time

import pytest

from stackctl.cli.progress import progress, wanted


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_step_is_shown() -> None:
    out = _Tty()
    with progress(enabled=True, after=0.0, stream=out) as step:
        step("Reading the live configuration…")
        deadline = time.monotonic() + 10
        while "Reading the live configuration" not in out.getvalue():
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.05)
    assert "Reading the live configuration…" in out.getvalue()


def test_quick_work_shows_nothing() -> None:
    out = _Tty()
    with progress(enabled=True, after=30.0, stream=out) as step:
        step("Computing the plan…")
    assert out.getvalue() == ""


@pytest.mark.parametrize(("tty", "env", "quiet", "expected"), [
    (True, {}, False, True),
    (False, {}, False, False),  # a pipe
    (True, {"CI": "true"}, False, False),
    (True, {"TERM": "dumb"}, False, False),
    (True, {}, True, False),  # -q
])
def test_only_on_a_terminal_a_person_watches(monkeypatch: pytest.MonkeyPatch, tty: bool,
                                             env: dict[str, str], quiet: bool,
                                             expected: bool) -> None:
    for var in ("CI", "TERM"):
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    logger = logging.getLogger("stackctl")
    monkeypatch.setattr(logger, "level", logging.WARNING if quiet else logging.INFO)
    stream = _Tty() if tty else io.StringIO()
    assert wanted(stream) is expected


def test_disabled_progress_never_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()  # a pipe
    with progress(after=0.0, stream=out) as step:
        step("Applying 3 changes…")
        time.sleep(0.2)
    assert out.getvalue() == ""
