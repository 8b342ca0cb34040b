"""Replay the golden CLI transcripts of tests/transcripts/ against the installed `stackctl`.

A golden file is the source document's transcript with `zenml` → `stackctl`; its
header (``#`` lines) says where it comes from and where we deliberately differ.
Then, in order:

- ``% COMMAND`` — setup, run but not compared (must succeed): ``stackctl …``,
  ``mkdir DIR`` or ``cd DIR``;
- ``[PROMPT]$ COMMAND`` — ``cd DIR`` or ``stackctl …``; a PROMPT is the directory
  the command must run in; after a stackctl command come its expected
  ``--- stderr`` and ``--- stdout`` sections (a missing one means empty) and
  optionally an ``--- exit`` section holding the exit code (default 0).

Each command runs in a fresh directory ``/tmp/stk-<8 random chars>`` (the
document's /tmp) with the global config in its ``config/``; the random part is
written XXXXXXXX in the golden files, so paths keep their length and tables
their widths.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import STACKCTL, run_process

TRANSCRIPTS = Path(__file__).parent / "transcripts"
PLACEHOLDER = "/tmp/stk-XXXXXXXX"
_PROMPT = re.compile(r"^(?P<prompt>[^\s$%]*)(?P<kind>[$%]) (?P<command>.+)$")


@dataclass
class Step:
    line: int
    setup: bool
    prompt: str
    command: str
    sections: dict[str, list[str]] = field(default_factory=dict)

    def expected(self, name: str) -> str:
        return "\n".join(self.sections.get(name, [])).strip("\n")


def parse(path: Path) -> list[Step]:
    steps: list[Step] = []
    section: list[str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not steps and (line.startswith("#") or not line.strip()):
            continue  # the header
        match = _PROMPT.match(line)
        if match:
            steps.append(Step(number, match["kind"] == "%", match["prompt"], match["command"]))
            section = None
        elif line.startswith("--- "):
            assert steps, f"{path.name}:{number}: a section before any command"
            section = steps[-1].sections.setdefault(line[4:].strip(), [])
        elif section is not None:
            section.append(line)
        else:
            assert not line.strip(), f"{path.name}:{number}: text outside a section: {line!r}"
    return steps


@pytest.fixture
def stage() -> Iterator[Path]:
    """A fresh /tmp/stk-XXXXXXXX: same length as the placeholder by construction."""
    base = Path(tempfile.mkdtemp(prefix="stk-", dir="/tmp"))
    assert len(str(base)) == len(PLACEHOLDER)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def normalize(text: str, base: Path) -> str:
    lines = text.replace(str(base), PLACEHOLDER).splitlines()
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _differences(step: Step, got: dict[str, str]) -> str:
    report = []
    for name, actual in got.items():
        expected = step.expected(name)
        if actual != expected:
            report.append(f"--- {name}: expected\n{expected}\n--- {name}: got\n{actual}")
    return "\n".join(report)


@pytest.mark.parametrize("golden", sorted(TRANSCRIPTS.glob("*.txt")), ids=lambda p: p.stem)
def test_transcript(golden: Path, stage: Path) -> None:
    steps = parse(golden)
    assert steps, f"{golden.name} holds no command"
    env = {"STACKCTL_CONFIG_PATH": str(stage / "config")}
    cwd = stage
    for step in steps:
        where = f"{golden.name}:{step.line}: {step.command}"
        if step.prompt:
            assert normalize(str(cwd), stage) == step.prompt, f"{where}: runs elsewhere"
        argv = shlex.split(step.command)
        if argv[0] == "cd":
            cwd = (cwd / argv[1]).resolve()
            assert cwd.is_dir(), where
            continue
        if argv[0] == "mkdir":
            assert step.setup, f"{where}: mkdir only as setup"
            (cwd / argv[1]).mkdir(parents=True)
            continue
        assert argv[0] == "stackctl", f"{where}: only stackctl, cd and mkdir are replayed"
        result = run_process([STACKCTL, *argv[1:]], cwd, env=env)
        if step.setup:
            assert result.rc == 0, f"{where}: setup failed\n{result.stderr}"
            continue
        assert result.rc == int(step.expected("exit") or 0), f"{where}\n{result.stderr}"
        got = {"stderr": normalize(result.stderr, stage),
               "stdout": normalize(result.stdout, stage)}
        problems = _differences(step, got)
        assert not problems, f"{where}\n{problems}"


def test_parse_reads_sections(tmp_path: Path) -> None:
    golden = tmp_path / "t.txt"
    golden.write_text("# header\n\n% mkdir a\n/x$ stackctl version\n--- stdout\nv\n\n"
                      "--- stderr\n--- exit\n3\n", encoding="utf-8")
    setup, step = parse(golden)
    assert (setup.setup, setup.command) == (True, "mkdir a")
    assert (step.prompt, step.command) == ("/x", "stackctl version")
    assert (step.expected("stdout"), step.expected("stderr"), step.expected("exit")) == (
        "v", "", "3")
