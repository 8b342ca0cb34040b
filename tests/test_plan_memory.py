"""What a plan keeps in memory: compiled manifests release their parsed values."""

from __future__ import annotations

from pathlib import Path

from stackctl.compiler.compile import Compiled, compile_manifests
from stackctl.compiler.project import Inputs

COMPONENTS = """\
apiVersion: stackctl/v1
kind: Component
metadata:
  name: orch
  labels: {team: ml}
spec:
  type: orchestrator
  flavor: local
---
apiVersion: stackctl/v1
kind: Component
metadata:
  name: art
spec:
  type: artifact_store
  flavor: local
  config:
    path: /tmp/art
"""

POLICY = """\
apiVersion: stackctl/v1
kind: Policy
metadata:
  name: labelled
spec:
  rules:
    - expression: "has(object.metadata.labels)"
      message: "label it"
      severity: warn
      match: {kinds: [Component]}
"""


def _compile(tmp_path: Path, *texts: str) -> Compiled:
    for i, text in enumerate(texts):
        (tmp_path / f"m{i}.yaml").write_text(text)
    return compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path)


def test_compiled_sources_keep_only_where_they_are(tmp_path: Path) -> None:
    compiled = _compile(tmp_path, COMPONENTS)
    assert compiled.ok, compiled.diagnostics
    sources = compiled.desired.sources
    art = sources["default/artifact_store/art"]
    assert [doc.data for doc in sources.values()] == [{}, {}]  # the values are released
    # ... and live on in the desired objects, while diagnostics are still located
    component = next(c for c in compiled.desired.profiles["default"].components.values()
                     if c.name == "art")
    assert component.config["path"] == "/tmp/art"
    where = art.locate(("spec", "config", "path"))
    assert (where.path, where.line, where.column) == (str(tmp_path / "m0.yaml"), 18, 11)
    assert (art.line, art.column) == (10, 1)


def test_with_a_policy_the_manifests_stay_whole(tmp_path: Path) -> None:
    # policies read every resource's manifest, in plan again (with the live objects)
    compiled = _compile(tmp_path, COMPONENTS, POLICY)
    assert compiled.ok, compiled.diagnostics
    orch = compiled.desired.sources["default/orchestrator/orch"]
    assert orch.data["metadata"]["labels"] == {"team": "ml"}


def test_a_file_is_read_again_to_locate_and_only_if_unchanged(tmp_path: Path) -> None:
    compiled = _compile(tmp_path, COMPONENTS)
    art = compiled.desired.sources["default/artifact_store/art"]
    assert art.held == ""  # no copy of the file's text is kept
    assert art.text == COMPONENTS
    assert art.locate(("spec", "config", "path")).line == 18
    # edited since it was compiled: its positions are unknown, the document's start is not
    (tmp_path / "m0.yaml").write_text("# a comment\n" + COMPONENTS)
    assert art.text == ""
    assert (art.locate(("spec", "config", "path")).line, art.column) == (10, 1)
    (tmp_path / "m0.yaml").unlink()
    assert art.locate(("spec", "flavor")).line == 10


def test_a_rendered_template_keeps_its_text(tmp_path: Path) -> None:
    (tmp_path / "m.yaml.j2").write_text(COMPONENTS.replace("/tmp/art", "{{ 'x' * 3 }}"))
    compiled = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path)
    assert compiled.ok, compiled.diagnostics
    art = compiled.desired.sources["default/artifact_store/art"]
    assert art.held == art.text == COMPONENTS.replace("/tmp/art", "xxx")
    assert art.locate(("spec", "config", "path")).line == 18
