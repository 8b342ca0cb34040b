"""The local store writes, and reads back, exactly ZenML 0.10's on-disk layout.

The reference states are sections of zenml-0.x-ondisk.md, copied verbatim to
tests/cases/ondisk/ (the tree `find` listed and every YAML file). We run the same
commands with the global config at ``<home>/.config/zenml`` and compare tree and
contents, uuids, dates and the home directory normalized. Then a state ZenML
0.10 wrote is laid down by hand and must be read, and changed, without losing
any of ZenML's keys. stackctl's own bookkeeping stays in ``.stackctl/``
directories beside the ZenML files, never inside them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import STACKCTL as STACKCTL_BIN
from helpers import Result, run_process

CASES = Path(__file__).parent / "cases" / "ondisk"
HOME = "/home/user"
CONFIG = ".config/zenml"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE = re.compile(r"'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+'")


def reference(name: str) -> tuple[list[str], dict[str, str]]:
    """The tree (paths relative to the home directory) and file contents of a doc section."""
    text = (CASES / name).read_text()
    listing = re.search(r"```\n\$ cd /home/user && find[^\n]*\n(.*?)```", text, re.DOTALL)
    assert listing is not None
    tree = [line[2:] for line in listing.group(1).splitlines() if line.startswith("./")]
    found = re.findall(r"^### /home/user/(\S+)\n```yaml\n(.*?)```", text, re.DOTALL | re.MULTILINE)
    return tree, dict(found)


def live(home: Path, roots: tuple[str, ...] = (CONFIG,)) -> tuple[list[str], dict[str, str]]:
    """The same view of a real home directory; ``.stackctl/`` bookkeeping left out."""
    tree: list[str] = []
    contents: dict[str, str] = {}
    for root in roots:
        base = home / root
        for path in [base, *sorted(base.rglob("*"))]:
            rel = str(path.relative_to(home))
            if ".stackctl" in path.relative_to(home).parts:
                continue
            tree.append(rel)
            if path.is_file():
                contents[rel] = path.read_text().replace(str(home), HOME)
    return tree, contents


def normalize(tree: list[str], contents: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Uuids become <U1>, <U2>, … in order of first use; dates become <DATE>.

    Files are visited in an order that does not depend on uuid values, so equal
    structures give equal tokens on both sides (the artifact store's uuid is also
    its local_stores/ directory, …).
    """
    tokens: dict[str, str] = {}

    def sub(text: str) -> str:
        def token(match: re.Match[str]) -> str:
            return tokens.setdefault(match.group(0), f"<U{len(tokens) + 1}>")
        return UUID.sub(token, text)

    def masked(path: str) -> str:
        return UUID.sub("<uuid>", path)

    files = {}
    for rel in sorted(contents, key=masked):
        files[sub(rel)] = DATE.sub("'<DATE>'", sub(contents[rel]))
    return sorted(sub(p) for p in tree), files


def run_in(home: Path, *args: str, cwd: Path | None = None) -> Result:
    env = {"STACKCTL_CONFIG_PATH": str(home / CONFIG)}
    result = run_process([STACKCTL_BIN, *args], cwd or home / "work", env=env)
    assert result.rc == 0, result.stderr
    return result


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    (path / "work").mkdir(parents=True)
    return path


def _under(tree: list[str], root: str) -> list[str]:
    return [p for p in tree if p == root or p.startswith(root + "/")]


def test_pristine_and_full_stack_layouts(home: Path) -> None:
    run_in(home, "profile", "list")
    ref_tree, ref_files = reference("01_pristine.md")
    assert normalize(*live(home)) == normalize(_under(ref_tree, CONFIG), ref_files)

    run_in(home, "container-registry", "register", "my_reg", "--flavor=default",
           "--uri=localhost:5000")
    run_in(home, "secrets-manager", "register", "my_secrets", "--flavor=local")
    run_in(home, "stack", "register", "full", "-o", "default", "-m", "default", "-a", "default",
           "-c", "my_reg", "-x", "my_secrets")
    ref_tree, ref_files = reference("02_full_stack.md")
    assert normalize(*live(home)) == normalize(_under(ref_tree, CONFIG), ref_files)


def test_bookkeeping_lives_beside_the_zenml_files(home: Path) -> None:
    run_in(home, "profile", "list")
    run_in(home, "profile", "create", "second")
    config = home / CONFIG
    assert sorted(str(p.relative_to(config)) for p in config.rglob(".stackctl")) == [
        ".stackctl", "profiles/default/.stackctl", "profiles/second/.stackctl"]
    for path in config.rglob("*.yaml"):
        assert "stackctl" not in path.read_text().replace(str(config), ""), path
    stacks = yaml.safe_load((config / "profiles/default/stacks.yaml").read_text())
    assert sorted(stacks) == ["projects", "role_assignments", "roles", "stack_component_flavors",
                              "stack_components", "stacks", "team_assignments", "teams", "users"]


def _lay_down(home: Path, name: str) -> dict[str, str]:
    """Write a reference state under ``home`` (paths rewritten); return what was written."""
    tree, files = reference(name)
    written = {}
    for rel in tree:
        if rel.endswith(".yaml"):
            text = files[rel].replace(HOME, str(home))
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            (home / rel).write_text(text)
            written[rel] = text
        else:
            (home / rel).mkdir(parents=True, exist_ok=True)
    return written


def _rows(result: Result) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("┃").split("│")]
            for line in result.stdout.splitlines() if line.startswith("┃")]


def test_a_zenml_state_is_read_and_changed_without_loss(home: Path) -> None:
    written = _lay_down(home, "03_walk_part2.md")
    config = home / CONFIG

    stacks = run_in(home, "stack", "list")
    assert "Running with active profile: 'default' (global)" in stacks.stderr
    assert _rows(stacks) == [
        ["ACTIVE", "STACK NAME", "ARTIFACT_STORE", "METADATA_STORE", "ORCHESTRATOR"],
        ["", "default", "my_store", "my_meta", "my_orch"],
        ["👉", "local", "local", "local", "local"],
        ["", "my_stack", "my_store", "my_meta", "my_orch"],
    ]
    stores = run_in(home, "artifact-store", "list")
    assert [row[:4] for row in _rows(stores) if row[1]] == [
        ["ACTIVE", "NAME", "FLAVOR", "UUID"],
        ["", "default", "local", "38d66c0d-12bc-4640-b522-182923e9358a"],
        ["👉", "local", "local", "2ca481a0-b8e3-40f2-8897-bc2d6a1f64ca"],
        ["", "my_store", "local", "4502a268-ad04-436d-b5b1-870a6995b556"],
    ]  # (a long PATH wraps onto a second line, as in ZenML 0.10: its column is left out here)
    as_json = json.loads(run_in(home, "artifact-store", "list", "--format", "json").stdout)
    assert [(s["name"], s["path"]) for s in as_json] == [
        ("default", f"{config}/local_stores/38d66c0d-12bc-4640-b522-182923e9358a"),
        ("local", "/tmp/zenml/artifacts"), ("my_store", "/tmp/example_x")]
    in_repo = run_in(home, "stack", "list", cwd=home / "proj")
    assert "Running with active profile: 'default' (local)" in in_repo.stderr
    assert [row[:2] for row in _rows(in_repo)][1:] == [
        ["👉", "default"], ["", "local"], ["", "my_stack"]]
    assert written == {rel: (home / rel).read_text() for rel in written}  # reading wrote nothing

    run_in(home, "orchestrator", "register", "extra", "--flavor=local")
    run_in(home, "stack", "register", "extra_stack", "-o", "extra", "-m", "local", "-a", "local")
    run_in(home, "stack", "delete", "my_stack", "-y")
    run_in(home, "stack", "set", "extra_stack", cwd=home / "proj")
    run_in(home, "stack", "set", "extra_stack")  # globally: config.yaml changes

    global_config = f"{CONFIG}/config.yaml"
    expected_config = yaml.safe_load(written[global_config])
    expected_config["profiles"]["default"]["active_stack"] = "extra_stack"
    assert yaml.safe_load((home / global_config).read_text()) == expected_config

    index = f"{CONFIG}/profiles/default/stacks.yaml"
    before, after = yaml.safe_load(written[index]), yaml.safe_load((home / index).read_text())
    for key in ("projects", "role_assignments", "roles", "stack_component_flavors",
                "team_assignments", "teams", "users"):
        assert after[key] == before[key], key
    assert after["stack_components"]["orchestrator"] == {
        **before["stack_components"]["orchestrator"], "extra": "local"}
    assert set(after["stacks"]) == {"default", "local", "extra_stack"}
    repo = yaml.safe_load((home / "proj/.zen/config.yaml").read_text())
    assert repo == {"active_profile_name": "default", "active_stack_name": "extra_stack",
                    "project_id": None, "project_name": None}
    untouched = [rel for rel in written
                 if rel not in (index, global_config, "proj/.zen/config.yaml")]
    assert {rel: (home / rel).read_text() for rel in untouched} == {
        rel: written[rel] for rel in untouched}  # every other ZenML file, byte for byte
    assert yaml.safe_load((config / "profiles/default/orchestrators/extra.yaml").read_text()
                          ).keys() == {"name", "uuid"}
