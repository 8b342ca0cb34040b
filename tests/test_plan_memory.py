"""What a plan keeps in memory: compiled manifests release their parsed values."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stackctl.compiler import compile as compile_module
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


CASES = Path(__file__).resolve().parent / "cases"
CORPUS = sorted((p for d in ("invalid", "valid") for p in (CASES / d).iterdir()
                 if p.suffix == ".yaml" or p.is_dir()), key=lambda p: p.name)


def _outcome(compiled: Compiled) -> tuple[object, ...]:
    desired = compiled.desired
    return ([(str(d), d.hint, d.severity) for d in compiled.diagnostics],
            {name: (p.settings, p.components, p.stacks, p.external, p.external_components,
                    p.external_stacks) for name, p in desired.profiles.items()},
            list(desired.profiles), desired.repositories, desired.active_profile,
            [(a, d.path, d.index, d.line, d.column) for a, d in desired.sources.items()],
            compiled.files, compiled.skipped, compiled.documents)


def _whole(monkeypatch: pytest.MonkeyPatch, path: Path) -> Compiled:
    with monkeypatch.context() as m:  # as if a file held the word Flavor
        m.setattr(compile_module._Reader, "prefetch", lambda self, files: False)
        return compile_manifests(Inputs(paths=(str(path),)), cwd=path.parent)


@pytest.mark.parametrize("case", CORPUS, ids=lambda p: p.name)
def test_compiled_file_by_file_as_whole(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lean = compile_manifests(Inputs(paths=(str(case),)), cwd=case.parent)
    assert _outcome(lean) == _outcome(_whole(monkeypatch, case))


def test_a_flavor_the_bytes_do_not_spell_is_compiled_whole(tmp_path: Path) -> None:
    flavor = """\
apiVersion: stackctl/v1
kind: "Fl\\x61vor"
metadata: {name: mine}
spec:
  type: orchestrator
  source: my.module.Mine
  configSchema: {type: object, properties: {size: {type: integer}}, required: [size]}
---
apiVersion: stackctl/v1
kind: Component
metadata: {name: o}
spec: {type: orchestrator, flavor: mine, config: {size: 1}}
"""
    compiled = _compile(tmp_path, COMPONENTS, flavor)
    assert compiled.ok, compiled.diagnostics
    assert "default/flavor/orchestrator/mine" in compiled.desired.sources


@pytest.mark.parametrize("ahead", [True, False], ids=["child-loading-ahead", "alone"])
def test_documents_do_not_all_take_memory_at_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  ahead: bool) -> None:
    """Also when a child loads the latter files (compiler.load_ahead): its answer is
    taken file by file, not all at once."""
    from stackctl.compiler import load_ahead

    if ahead:  # whatever threads run (a pytest-xdist worker has one)
        monkeypatch.setattr(load_ahead, "MIN_CHILD_BYTES", 0)
        monkeypatch.setattr(load_ahead, "can_fork", lambda: True)
    else:
        monkeypatch.setattr(load_ahead, "can_fork", lambda: False)
    for i in range(1000):
        (tmp_path / f"m{i:03d}.yaml").write_text(
            COMPONENTS.replace("name: orch", f"name: orch-{i}").replace("art\n", f"art-{i}\n"))

    def peak(compile_it: Callable[[], Compiled]) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            compiled = compile_it()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            assert compiled.ok, compiled.diagnostics

    _whole(monkeypatch, tmp_path)  # schemas and imports loaded before measuring
    whole = peak(lambda: _whole(monkeypatch, tmp_path))
    lean = peak(lambda: compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path))
    assert lean < 0.75 * whole, (lean, whole)  # ~0.63 (a fixed ~4 MB in both)


def test_per_resource_records_have_no_instance_dict() -> None:
    from stackctl.compiler.load import Document
    from stackctl.model import Address, Component, ComponentType, Stack

    records = [Component(ComponentType.ORCHESTRATOR, "o", "local", "u"),
               Stack("s", {}), Address.stack("p", "s"), Document(Path("m.yaml"), 0, {}, 1, 1)]
    assert [hasattr(r, "__dict__") for r in records] == [False] * 4


def test_views_share_the_config_and_are_redacted_only_when_a_secret_is_set() -> None:
    from stackctl.flavors import SENSITIVE
    from stackctl.model import Component, ComponentType
    from stackctl.plan import compare

    unset = Component(ComponentType.ARTIFACT_STORE, "a", "s3", "u",
                      {"path": "s3://x", "secret": None, "key": ""})
    view = compare.component_view(unset)
    assert view["config"] is unset.config
    hidden = compare.sensitive_paths(ComponentType.ARTIFACT_STORE, ["s3"])
    assert ("config", "secret") in hidden
    assert compare.redact_view(view, hidden) is view  # nothing to hide: no copy
    secret = compare.component_view(Component(ComponentType.ARTIFACT_STORE, "a", "s3", "u",
                                              {"path": "s3://x", "secret": "hunter2"}))
    shown = compare.redact_view(secret, hidden)
    assert shown == {"flavor": "s3", "config": {"path": "s3://x", "secret": SENSITIVE}}
    assert secret["config"]["secret"] == "hunter2"


def test_flavors_are_one_string_each_desired_and_live(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from stackctl.model import Component, ComponentType, ProfileState
    from stackctl.stores.local import LocalStore
    from stackctl.stores.urls import file_url

    second = COMPONENTS.replace("name: orch", "name: orch2").replace("name: art", "name: art2")
    compiled = _compile(tmp_path, COMPONENTS, second)
    assert compiled.ok, compiled.diagnostics
    desired = list(compiled.desired.profiles["default"].components.values())
    assert desired[0].flavor == "local"
    assert desired[0].flavor is desired[2].flavor
    monkeypatch.setenv("STACKCTL_CACHE_DIR", str(tmp_path / "cache"))
    art = ComponentType.ARTIFACT_STORE
    store = LocalStore("p", file_url(str(tmp_path / "store")))
    store.create(ProfileState(components={(art, n): Component(art, n, "local", n, {})
                                          for n in ("a", "b")}, stacks={}), {})
    for _ in range(2):  # parsed, then from the read cache
        live = list(store.load().components.values())
        assert live[0].flavor is live[1].flavor


def test_a_no_op_reads_the_recorded_print_and_address_strings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stackctl.cli.main import main
    from stackctl.plan import compute
    from stackctl.plan.pipeline import inputs, make_plan

    (tmp_path / "m.yaml").write_text(COMPONENTS)
    assert main(["apply", str(tmp_path), "--auto-approve"]) == 0
    seen: list[Any] = []
    real = compute.compute_plan

    def spy(desired: Any, live: Any, **kwargs: Any) -> Any:
        seen.append(live)
        return real(desired, live, **kwargs)

    monkeypatch.setattr(compute, "compute_plan", spy)
    plan = make_plan(inputs([str(tmp_path)]), cwd=tmp_path).plan
    assert not plan.has_changes
    managed = seen[0].profiles["default"].books.managed
    components = [c for c in plan.changes if c.kind == "component"]
    assert len(components) == 2
    for change in components:
        read = next(a for a in plan.reads if a == change.address)
        assert change.address is read
        assert plan.reads[read] is next(v for a, v in managed.items() if a == read)
