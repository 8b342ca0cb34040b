"""Fuzzing (hypothesis): whatever the input, never an internal error, and a failed
command never changes the live state.

- arbitrary bytes, and arbitrary YAML (manifest-shaped or not), to ``validate``;
- arbitrary JSON, and real saved plans with one random edit (with and without a
  recomputed digest), to ``apply PLANFILE``;
- arbitrary JSON or bytes as bookkeeping, journal and ZenML store files, then
  ``stack list`` and ``plan``.

Commands run in-process through the CLI's ``main`` (its error handler turns
any unexpected exception into exit 70 and "internal error"). Bounded: a few
dozen examples each, marked slow.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import snapshot, team_manifests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackctl.cli.main import main
from stackctl.plan import saved

pytestmark = pytest.mark.slow
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

MANIFESTS = team_manifests("/tmp/stackctl-fuzz-art")
CHANGED = MANIFESTS.replace("/tmp/stackctl-fuzz-art", "/tmp/stackctl-fuzz-art2")

# Non-finite floats too: json.dumps writes them as Infinity, which a plan file must refuse
# (a digest cannot be computed over them, so such a mutation is never re-digested).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=20)


class Cli:
    """Runs the CLI in-process in ``work`` and checks the two invariants every time."""

    def __init__(self, work: Path, config: Path, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.work, self.config, self.capsys = work, config, capsys
        monkeypatch.chdir(work)

    def __call__(self, *args: str) -> tuple[int, str]:
        before = snapshot(self.config)
        self.capsys.readouterr()
        rc = main(list(args))
        out, err = self.capsys.readouterr()
        assert rc in (0, 1, 2), (rc, err)
        assert "internal error" not in err, err
        assert "Traceback" not in out + err
        if rc != 0:
            assert snapshot(self.config) == before, f"{args} failed and changed the live state"
        return rc, out + err


@pytest.fixture
def cli(tmp_path: Path, config_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    return Cli(work, config_dir, capsys, monkeypatch)


@pytest.fixture
def applied(cli: Cli, tmp_path: Path) -> Iterator[Callable[[], None]]:
    """The manifests applied; yields ``restore()`` to put that live state back."""
    (cli.work / "m.yaml").write_text(MANIFESTS)
    assert cli("apply", "-y", "m.yaml")[0] == 0
    pristine = tmp_path / "pristine"
    shutil.copytree(cli.config, pristine)

    def restore() -> None:
        shutil.rmtree(cli.config)
        shutil.copytree(pristine, cli.config)

    return restore


# -- validate ----------------------------------------------------------------------------------


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_validate_arbitrary_bytes(cli: Cli, data: bytes) -> None:
    (cli.work / "m.yaml").write_bytes(data)
    assert cli("validate", "m.yaml")[0] in (0, 1)


manifest_like = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(["stackctl/v1", "v2", 1]),
     "kind": st.sampled_from(["Component", "Stack", "Profile", "Flavor", "GlobalConfig",
                              "Repository", "Nope"]),
     "metadata": st.fixed_dictionaries({"name": st.text(max_size=12)}, optional={
         "profile": st.text(max_size=8) | st.integers()}) | json_values},
    optional={"spec": json_values})


@SETTINGS
@given(documents=st.lists(manifest_like | json_values, min_size=1, max_size=4))
def test_validate_arbitrary_yaml(cli: Cli, documents: list[Any]) -> None:
    (cli.work / "m.yaml").write_text(yaml.safe_dump_all(documents))
    assert cli("validate", "m.yaml")[0] in (0, 1)


# -- apply PLANFILE ----------------------------------------------------------------------------


@SETTINGS
@given(value=json_values)
def test_apply_arbitrary_json(cli: Cli, value: Any) -> None:
    (cli.work / "plan.json").write_text(json.dumps(value))
    assert cli("apply", "plan.json")[0] == 1


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


def _mutate(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    node = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@SETTINGS
@given(choice=st.integers(min_value=0), value=json_values, delete=st.booleans(),
       redigest=st.booleans())
def test_apply_a_mutated_real_plan(cli: Cli, applied: Callable[[], None], choice: int,
                                   value: Any, delete: bool, redigest: bool) -> None:
    applied()
    (cli.work / "m.yaml").write_text(CHANGED)
    assert cli("plan", "m.yaml", "-o", "plan.json")[0] == 0
    data = json.loads((cli.work / "plan.json").read_text())
    paths = [p for p in _paths(data) if p[-1:] != ("digest",)]
    path = paths[choice % len(paths)]
    data = _mutate(data, path, value, delete and bool(path))
    if redigest and isinstance(data, dict) and _finite(data):
        data["digest"] = saved.digest_of(data)
    (cli.work / "plan.json").write_text(json.dumps(data))
    rc, _ = cli("apply", "plan.json")
    if rc == 0:  # an edit apply may ignore (created_at, summary, ...): the manifests hold
        assert "No changes." in cli("plan", "m.yaml")[1]


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def test_a_plan_file_with_infinity_is_refused_cleanly(cli: Cli, applied: Callable[[], None]
                                                       ) -> None:
    applied()
    (cli.work / "m.yaml").write_text(CHANGED)
    assert cli("plan", "m.yaml", "-o", "plan.json")[0] == 0
    data = json.loads((cli.work / "plan.json").read_text())
    data["summary"] = float("inf")
    (cli.work / "plan.json").write_text(json.dumps(data))
    rc, err = cli("apply", "plan.json")
    assert rc == 1
    assert "This is not a stackctl plan file (not JSON)." in err


# -- bookkeeping, journals and store files -----------------------------------------------------

DAMAGEABLE = ["profiles/team/.stackctl/state.json", ".stackctl/global.json",
              "profiles/team/.stackctl/journal.json", ".stackctl/journal.json",
              "profiles/team/stacks.yaml", "config.yaml",
              "profiles/team/artifact_stores/art.yaml"]


@SETTINGS
@given(target=st.sampled_from(DAMAGEABLE),
       content=json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=300)
       | json_values.map(lambda v: yaml.safe_dump(v).encode()))
def test_damaged_bookkeeping_and_store_files(cli: Cli, applied: Callable[[], None],
                                             target: str, content: bytes) -> None:
    applied()
    (cli.config / target).write_bytes(content)
    cli("stack", "list")
    cli("plan", "m.yaml")
