"""The hostile corpus: inputs an attacker or an unlucky operator would try.

Each case is a file ``tests/cases/hostile/<name>.yaml``::

    about: what is tried, and why it must fail cleanly
    seed: false              # start empty (default: profiles default and team (active))
    plan: m.yaml             # first save `stackctl plan m.yaml -o plan.json` (optional)
    edit_plan: [...]         # then edit plan.json: [op, [key, ...], value] (optional)
    redigest: true           # ... and recompute its digest, as an attacker would (optional)
    files: {path: text}      # written before the command; "@config/..." is in the config
                             # dir; a !!binary value is written as bytes
    env: {NAME: value}
    args: [validate, m.yaml] # the command; {work} and {config} are substituted
    exit: 1
    message: "Error: ..."    # must appear in the output ({work}, {config} substituted)
    absent: ["secret"]       # must appear nowhere in the output (optional)
    kept: [victim]           # files of the work dir that must survive unchanged (optional)

The runner asserts the exit code, the message, no traceback or internal error,
and that the config directory is byte for byte unchanged by the command.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import STACKCTL, run_process, snapshot, team_manifests

from stackctl.plan import saved

CASES = Path(__file__).resolve().parent / "cases" / "hostile"
NAMES = sorted(p.stem for p in CASES.glob("*.yaml"))
SEED_MANIFEST = team_manifests("/tmp/stackctl-hostile-art")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config dir with profiles ``default`` and ``team`` (active), made once, copied per case."""
    root = tmp_path_factory.mktemp("hostile-seed")
    config, work = root / "config", root / "work"
    work.mkdir()
    (work / "seed.yaml").write_text(SEED_MANIFEST)
    env = {"STACKCTL_CONFIG_PATH": str(config)}
    for args in (["profile", "list"], ["apply", "-y", "seed.yaml"]):
        result = run_process([STACKCTL, *args], work, env=env)
        assert result.rc == 0, result.stderr
    return config


def _copy_config(seed: Path, target: Path) -> None:
    shutil.rmtree(target)
    shutil.copytree(seed, target)
    for path in target.rglob("*"):  # the seed's absolute paths, moved along
        if path.is_file() and path.suffix in (".yaml", ".json"):
            path.write_text(path.read_text().replace(str(seed), str(target)))


def _edit_plan(data: dict[str, Any], edits: list[list[Any]]) -> None:
    """Each edit: [op, [key, ...], value]; a text key on a list picks the change (or
    drift) of that address."""
    for op, where, *value in edits:
        *parents, last = where
        node: Any = data
        for key in parents:
            node = _child(node, key)
        if isinstance(node, list) and isinstance(last, str):
            last = next(i for i, c in enumerate(node) if c["address"] == last)
        if op == "set":
            node[last] = value[0]
        elif op == "del":
            del node[last]
        elif op == "copy":  # append a copy of an element, with fields changed
            node.append({**node[last], **value[0]})
        else:
            raise AssertionError(f"unknown edit {op}")


def _child(node: Any, key: Any) -> Any:
    if isinstance(node, list) and isinstance(key, str):
        return next(c for c in node if c["address"] == key)
    return node[key]


def test_corpus_is_big_enough() -> None:
    assert len(NAMES) >= 60


@pytest.mark.parametrize("name", NAMES)
def test_hostile_case(name: str, seeded: Path, config_dir: Path, workdir: Path) -> None:
    case = yaml.safe_load((CASES / f"{name}.yaml").read_text())
    assert case.get("about"), f"{name}: say what the case tries"

    def fill(text: str) -> str:
        return text.replace("{work}", str(workdir)).replace("{config}", str(config_dir))

    if case.get("seed", True):
        _copy_config(seeded, config_dir)
    env = {k: fill(str(v)) for k, v in (case.get("env") or {}).items()}
    for rel, content in (case.get("files") or {}).items():
        if rel.startswith("@config/"):
            path = config_dir / rel.removeprefix("@config/")
        else:
            path = workdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(fill(content))
    if case.get("plan"):
        made = run_process([STACKCTL, "plan", case["plan"], "-o", "plan.json"], workdir)
        assert made.rc == 0, made.stderr
        data = json.loads((workdir / "plan.json").read_text())
        _edit_plan(data, case.get("edit_plan") or [])
        if case.get("redigest"):
            data["digest"] = saved.digest_of(data)
        (workdir / "plan.json").write_text(json.dumps(data))

    before = snapshot(config_dir)
    result = run_process([STACKCTL, *(fill(str(a)) for a in case["args"])], workdir, env=env)
    output = result.stdout + result.stderr
    assert result.rc == case["exit"], output
    assert fill(case["message"]) in output, output  # validate reports on stdout
    assert "Traceback" not in output
    assert "internal error" not in output
    for secret in case.get("absent") or ():
        assert secret not in output
    assert snapshot(config_dir) == before, "the command changed the config directory"
    for rel in case.get("kept") or ():
        assert (workdir / rel).read_text() == case["files"][rel]
