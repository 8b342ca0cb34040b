"""Interoperability with the real ZenML 0.10.0, both ways, on one shared config directory.

ZenML runs from a Python 3.8 venv built once into a cache directory from the pins in
``tests/zenml/`` (see ``tests/zenml_env.py``). ``ZENML_CONFIG_PATH`` and
``STACKCTL_CONFIG_PATH`` name the same directory, so each tool reads what the other
wrote: ZenML lists and describes stacks, the active stack, component configs, a profile
and a ``.zen`` repository made by ``stackctl apply``; stackctl lists, plans (a no-op
after its own export) and exports what ``zenml profile create``/``register``/``set``
made. Without Python 3.8 the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
import zenml_env
from helpers import STACKCTL, Result, run_process

pytestmark = pytest.mark.slow

Tool = Callable[..., Result]


def require_zenml() -> Path:
    """The ZenML venv; without Python 3.8 a skip, or under CI=true a failure."""
    try:
        return zenml_env.ensure_venv()
    except zenml_env.ZenmlUnavailableError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{error} (CI=true makes this a failure)", pytrace=False)
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def zenml_venv() -> Path:
    return require_zenml()


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             (None, pytest.skip.Exception)])
def test_missing_python38_fails_under_ci_and_skips_elsewhere(
        ci: str | None, outcome: type[BaseException], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKCTL_PYTHON38", str(tmp_path / "no-such-python3.8"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("STACKCTL_TEST_CACHE", str(tmp_path / "cache"))
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome) as raised:
        require_zenml()
    assert str(raised.value).startswith("Python 3.8 not found (looked at ")
    assert not (tmp_path / "cache").exists()  # nothing was built


@pytest.fixture
def shared(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One config dir for both tools; ZenML without analytics or its debug tracebacks."""
    monkeypatch.setenv("ZENML_CONFIG_PATH", str(config_dir))
    monkeypatch.setenv("ZENML_ANALYTICS_OPT_IN", "false")
    monkeypatch.setenv("ZENML_DEBUG", "false")
    return config_dir


@pytest.fixture
def zenml(zenml_venv: Path, shared: Path, workdir: Path) -> Tool:
    """``zenml("stack", "list", cwd=...)`` with the real ZenML 0.10 CLI."""

    def _run(*args: str, cwd: Path | None = None) -> Result:
        result = run_process([str(zenml_venv / "bin" / "zenml"), *args], cwd or workdir)
        assert "Traceback" not in result.stdout + result.stderr, result
        return result

    return _run


@pytest.fixture
def zenml_python(zenml_venv: Path, shared: Path, workdir: Path) -> Callable[..., object]:
    """Run a snippet under ZenML 0.10's Python; it prints one JSON value, returned here."""

    def _run(code: str, cwd: Path | None = None) -> object:
        result = run_process([str(zenml_venv / "bin" / "python"), "-c", code], cwd or workdir)
        assert result.rc == 0, result
        return json.loads(result.stdout.strip().splitlines()[-1])

    return _run


@pytest.fixture
def stackctl(shared: Path, workdir: Path) -> Tool:
    def _run(*args: str, cwd: Path | None = None) -> Result:
        return run_process([STACKCTL, *args], cwd or workdir)

    return _run


def _table_rows(text: str) -> list[list[str]]:
    """The cells of each data row of a rich heavy-edge table (ZenML's and stackctl's)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("┃") and "━" not in line:
            rows.append([cell.strip() for cell in line.strip("┃").replace("│", "┃").split("┃")])
    return rows


MANIFESTS = """\
apiVersion: stackctl/v1
kind: Profile
metadata: {{name: team}}
spec:
  store: {{type: local}}
  activeStack: prod
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: orch, profile: team}}
spec: {{type: orchestrator, flavor: local}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: art, profile: team}}
spec:
  type: artifact_store
  flavor: local
  config: {{path: {artifacts}}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: meta, profile: team}}
spec:
  type: metadata_store
  flavor: sqlite
  config: {{uri: {metadata}, upgrade_migration_enabled: false}}
---
apiVersion: stackctl/v1
kind: Component
metadata: {{name: reg, profile: team}}
spec:
  type: container_registry
  flavor: default
  config: {{uri: "localhost:5000"}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: prod, profile: team}}
spec:
  components: {{orchestrator: orch, artifact_store: art, metadata_store: meta,
               container_registry: reg}}
---
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: small, profile: team}}
spec:
  components: {{orchestrator: orch, artifact_store: art, metadata_store: meta}}
---
apiVersion: stackctl/v1
kind: Repository
metadata: {{name: project}}
spec: {{path: project, activeProfile: team, activeStack: small}}
---
apiVersion: stackctl/v1
kind: GlobalConfig
metadata: {{name: global}}
spec: {{activeProfile: team}}
"""


@pytest.fixture
def applied(tmp_path: Path, stackctl: Tool) -> Path:
    """The manifests above applied by stackctl; returns the repository's path."""
    root = tmp_path / "gitops"
    (root / "project").mkdir(parents=True)
    (root / "stack.yaml").write_text(MANIFESTS.format(
        artifacts=tmp_path / "artifacts", metadata=tmp_path / "metadata.db"))
    result = stackctl("apply", "-y", str(root))
    assert result.rc == 0, result
    return root / "project"


def test_zenml_lists_what_stackctl_applied(applied: Path, zenml: Tool) -> None:
    profiles = zenml("profile", "list")
    assert profiles.rc == 0, profiles
    active = [row for row in _table_rows(profiles.stdout) if row[0] == "👉"]
    assert [(row[1], row[2], row[4]) for row in active] == [("team", "local", "prod")]

    stacks = zenml("stack", "list")
    assert stacks.rc == 0, stacks
    assert "Running with active profile: 'team' (global)" in stacks.stdout
    rows = {row[1]: row for row in _table_rows(stacks.stdout)[1:]}
    # a new profile gets ZenML's default stack, as `zenml profile create` gives it
    assert sorted(rows) == ["default", "prod", "small"]
    assert [rows[name][0] for name in ("default", "prod", "small")] == ["", "👉", ""]
    header = _table_rows(stacks.stdout)[0]
    prod = dict(zip(header, rows["prod"], strict=True))
    assert (prod["ARTIFACT_STORE"], prod["METADATA_STORE"], prod["ORCHESTRATOR"],
            prod["CONTAINER_REGISTRY"]) == ("art", "meta", "orch", "reg")

    described = zenml("stack", "describe", "prod")
    assert described.rc == 0, described
    assert sorted(row[:2] for row in _table_rows(described.stdout)[1:]) == [
        ["ARTIFACT_STORE", "art"], ["CONTAINER_REGISTRY", "reg"],
        ["METADATA_STORE", "meta"], ["ORCHESTRATOR", "orch"]]
    assert "'prod' stack (ACTIVE)" in described.stdout


def test_zenml_python_api_reads_component_configs(applied: Path, tmp_path: Path,
                                                  zenml_python: Callable[..., object]) -> None:
    found = zenml_python(
        "import json\n"
        "from zenml.repository import Repository\n"
        "from zenml.enums import StackComponentType as T\n"
        "repo = Repository()\n"
        "stack = repo.active_stack\n"
        "art = repo.get_stack_component(T.ARTIFACT_STORE, 'art')\n"
        "meta = repo.get_stack_component(T.METADATA_STORE, 'meta')\n"
        "reg = repo.get_stack_component(T.CONTAINER_REGISTRY, 'reg')\n"
        "print(json.dumps({'profile': repo.active_profile_name, 'stack': stack.name,\n"
        "  'stacks': sorted(s.name for s in repo.stacks),\n"
        "  'art': [art.FLAVOR, art.path], 'meta': [meta.FLAVOR, meta.uri,\n"
        "  meta.upgrade_migration_enabled], 'reg': [reg.FLAVOR, reg.uri],\n"
        "  'types': sorted(t.value for t in stack.components)}))\n")
    assert found == {
        "profile": "team", "stack": "prod", "stacks": ["default", "prod", "small"],
        "art": ["local", str(tmp_path / "artifacts")],
        "meta": ["sqlite", str(tmp_path / "metadata.db"), False],
        "reg": ["default", "localhost:5000"],
        "types": ["artifact_store", "container_registry", "metadata_store", "orchestrator"]}


def test_zenml_uses_the_repository_stackctl_applied(applied: Path, zenml: Tool,
                                                    zenml_python: Callable[..., object]) -> None:
    inside = zenml("stack", "get", cwd=applied)
    assert inside.rc == 0, inside
    assert "Running with active profile: 'team' (local)" in inside.stdout
    assert "The active stack is: 'small'" in inside.stdout
    found = zenml_python(
        "import json\nfrom zenml.repository import Repository\nrepo = Repository()\n"
        "print(json.dumps([str(repo.root), repo.active_profile_name, repo.active_stack_name]))\n",
        cwd=applied)
    assert found == [str(applied), "team", "small"]


def _zenml_made_state(zenml: Tool, tmp_path: Path) -> None:
    steps = [
        ("profile", "create", "zp"),
        ("profile", "set", "zp"),
        ("orchestrator", "register", "o2", "--flavor=local"),
        ("artifact-store", "register", "a2", "--flavor=local", f"--path={tmp_path / 'a2'}"),
        ("container-registry", "register", "r2", "--flavor=default", "--uri=localhost:5001"),
        ("stack", "register", "s2", "-o", "o2", "-a", "a2", "-m", "default", "-c", "r2"),
        ("stack", "set", "s2"),
    ]
    for step in steps:
        result = zenml(*step)
        assert result.rc == 0, (step, result)


def test_stackctl_reads_what_zenml_wrote(zenml: Tool, stackctl: Tool, tmp_path: Path) -> None:
    _zenml_made_state(zenml, tmp_path)
    got = stackctl("profile", "get")
    assert (got.rc, got.stdout.strip().splitlines()[-1]) == (0, "Active profile is: zp")
    listed = stackctl("stack", "list")
    assert listed.rc == 0, listed
    rows = {row[1]: row for row in _table_rows(listed.stdout)[1:]}
    assert sorted(rows) == ["default", "s2"]
    assert rows["s2"][0] == "👉"
    described = stackctl("stack", "describe", "s2")
    assert described.rc == 0, described
    assert sorted(row[:2] for row in _table_rows(described.stdout)[1:]) == [
        ["ARTIFACT_STORE", "a2"], ["CONTAINER_REGISTRY", "r2"],
        ["METADATA_STORE", "default"], ["ORCHESTRATOR", "o2"]]
    art = stackctl("artifact-store", "describe", "a2")
    assert art.rc == 0, art
    assert str(tmp_path / "a2") in art.stdout


def test_stackctl_exports_and_plans_zenml_state_as_no_op(zenml: Tool, stackctl: Tool,
                                                         tmp_path: Path, shared: Path) -> None:
    _zenml_made_state(zenml, tmp_path)
    out = tmp_path / "exported"
    exported = stackctl("export", "--all", "-o", str(out))
    assert exported.rc == 0, exported
    documents = [doc for path in sorted(out.rglob("*.yaml*"))
                 for doc in yaml.safe_load_all(path.read_text()) if doc]
    by_kind = {(d["kind"], d["metadata"]["name"], d["metadata"].get("profile"))
               for d in documents}
    assert {("Stack", "s2", "zp"), ("Component", "a2", "zp"), ("Component", "r2", "zp"),
            ("Profile", "zp", None)} <= by_kind
    a2 = next(d for d in documents if d["metadata"]["name"] == "a2")
    assert a2["spec"]["config"] == {"path": str(tmp_path / "a2")}

    plan = stackctl("plan", "--detailed-exitcode", str(out))
    assert plan.rc == 0, plan  # 2 would mean changes
    assert plan.stdout.endswith("\nNo changes. The live configuration matches the manifests.\n")
    assert "= no-op  zp/stack/s2  (now managed by stackctl)" in plan.stdout

    # stackctl applying its export changes nothing ZenML sees (it starts managing)
    before = zenml("stack", "list").stdout
    applied = stackctl("apply", "-y", str(out))
    assert applied.rc == 0, applied
    assert zenml("stack", "list").stdout == before
    again = stackctl("plan", "--detailed-exitcode", str(out))
    # each profile's default components hold this machine's paths: not exported, so
    # they stay unmanaged (and untouched)
    assert (again.rc, again.stdout) == (
        0, "= 8 unchanged resources\n\nUnmanaged (not in the manifests, never touched): 6\n"
           "  default/artifact_store/default\n  default/metadata_store/default\n"
           "  default/orchestrator/default\n  zp/artifact_store/default\n"
           "  zp/metadata_store/default\n  zp/orchestrator/default\n\n"
           "No changes. The live configuration matches the manifests.\n")


def test_zenml_registers_into_a_profile_stackctl_created(applied: Path, zenml: Tool,
                                                         stackctl: Tool, tmp_path: Path) -> None:
    """Both tools keep writing the same profile: each sees the other's additions."""
    added = zenml("orchestrator", "register", "by_zenml", "--flavor=local")
    assert added.rc == 0, added
    stack = zenml("stack", "register", "zstack", "-o", "by_zenml", "-a", "art", "-m", "meta")
    assert stack.rc == 0, stack
    listed = stackctl("stack", "list")
    assert {row[1] for row in _table_rows(listed.stdout)[1:]} == {"default", "prod", "small",
                                                                 "zstack"}
    plan = stackctl("plan", "--detailed-exitcode", str(applied.parent))
    assert plan.rc == 0, plan
    assert "No changes. The live configuration matches the manifests." in plan.stdout
    assert "team/stack/zstack" in plan.stdout  # listed as unmanaged, never touched
    files = yaml.safe_load((Path(os.environ["STACKCTL_CONFIG_PATH"]) / "profiles" / "team"
                            / "stacks.yaml").read_text())
    assert files["stacks"]["zstack"] == {"artifact_store": "art", "metadata_store": "meta",
                                         "orchestrator": "by_zenml"}
