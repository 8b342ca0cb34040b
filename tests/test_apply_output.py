"""What `apply` says per change costs one log message per store, not one per object.

A first apply of 10,000 components printed 11,000 lines, each its own log record
through logging and the handler (~0.2 s). The lines are the same; they now leave
as one message per store (and the summary as its own).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from helpers import Cli

from stackctl import logs

MANIFESTS = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {name: team}
spec: {activeStack: s0}
"""

COMPONENTS = """\
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: orch-%(i)d, profile: team}
spec: {type: orchestrator, flavor: local}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: art-%(i)d, profile: team}
spec: {type: artifact_store, flavor: local, config: {path: %(data)s/a%(i)d}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: meta-%(i)d, profile: team}
spec: {type: metadata_store, flavor: sqlite, config: {uri: %(data)s/m%(i)d.db}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: s%(i)d, profile: team}
spec:
  components: {orchestrator: orch-%(i)d, artifact_store: art-%(i)d, metadata_store: meta-%(i)d}
"""


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every message the CLI's handler prints, one entry per log record."""
    seen: list[str] = []
    emit = logs.MessageHandler.emit

    def recording(self: logs.MessageHandler, record: logging.LogRecord) -> None:
        seen.append(record.getMessage())
        emit(self, record)

    monkeypatch.setattr(logs.MessageHandler, "emit", recording)
    return seen


def _write(tmp_path: Path, stacks: int) -> Path:
    root = tmp_path / "manifests"
    root.mkdir()
    body = MANIFESTS + "".join(COMPONENTS % {"i": i, "data": tmp_path / "data"}
                               for i in range(stacks))
    (root / "all.yaml").write_text(body)
    return root


def test_a_first_apply_logs_one_message_per_store_with_a_line_per_change(
        cli: Cli, tmp_path: Path, messages: list[str]) -> None:
    manifests = _write(tmp_path, 5)
    result = cli("apply", str(manifests), "--auto-approve")
    assert result.rc == 0, result.err
    created = [m for m in messages if m.startswith("Created profile/team")]
    assert len(created) == 1
    lines = created[0].splitlines()
    assert sum(1 for line in lines if line.startswith("Created team/")) == 20  # 15 + 5 stacks
    assert "Created team/stack/s4" in lines
    assert messages[-1].startswith("Apply complete: ")
    # the words on stderr are those lines, one each
    err = result.err.splitlines()
    assert err[err.index("Created profile/team"):][: len(lines)] == lines


def test_an_apply_to_an_existing_store_logs_its_changes_as_one_message(
        cli: Cli, tmp_path: Path, messages: list[str]) -> None:
    manifests = _write(tmp_path, 3)
    assert cli("apply", str(manifests), "--auto-approve").rc == 0
    text = (manifests / "all.yaml").read_text()
    (manifests / "all.yaml").write_text(text.replace("/a1}", "/a1-new}").replace(
        "/a2}", "/a2-new}"))
    messages.clear()
    result = cli("apply", str(manifests), "--auto-approve")
    assert result.rc == 0, result.err
    assert "Updated team/artifact_store/art-1\nUpdated team/artifact_store/art-2" in messages
    assert "Updated team/artifact_store/art-1\nUpdated team/artifact_store/art-2\n" in result.err
