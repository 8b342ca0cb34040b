"""The Python API: the code of 002_*.txt runs unchanged but for `zenml` → `stackctl`.

The two snippets (tests/cases/python_api/) run with the installed interpreter in a
subprocess, as a user runs them; unit tests then check that ``Repository`` follows the
CLI's rules for discovery and for local vs global activation, and that the component
and stack objects validate exactly as the CLI does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from helpers import PYTHON, Result, run_process, snapshot

from stackctl import flavors
from stackctl.errors import (
    AlreadyExistsError,
    ConfigValidationError,
    IntegrityError,
    NotFoundError,
)
from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent, component_class

CASES = Path(__file__).parent / "cases" / "python_api"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

DEFAULT_PROFILE_CREATION = """\
Creating default profile...
Initializing profile `default`...
Initializing store...
Registered stack component with type 'orchestrator' and name 'default'.
Registered stack component with type 'metadata_store' and name 'default'.
Registered stack component with type 'artifact_store' and name 'default'.
Registered stack with name 'default'.
Created and activated default profile.
"""

REGISTERED_LOCAL = """\
Registered stack component with type 'orchestrator' and name 'local'.
Registered stack component with type 'metadata_store' and name 'local'.
Registered stack component with type 'artifact_store' and name 'local'.
Registered stack with name 'local'.
"""

DUPLICATE = ("stackctl.errors.AlreadyExistsError: Unable to register stack with name 'local': "
             "Found existing stack with this name.")


def snippet(name: str, cwd: Path) -> Result:
    return run_process([PYTHON, str(CASES / name)], cwd)


def _reference_snippets() -> list[str]:
    doc = CASES / "zenml-0.10-managing-stacks-in-python.md"  # copied from shared/reference
    return re.findall(r"```python\n(.*?)```", doc.read_text(), re.DOTALL)


def test_snippets_are_the_documents_code() -> None:
    snippets = _reference_snippets()
    assert len(snippets) == 2
    for name, code in zip(["active_stack.py", "register_stack.py"], snippets, strict=True):
        header, ours = (CASES / name).read_text().split("\n\n", 1)  # our header: 2 comments
        assert all(line.startswith("#") for line in header.splitlines())
        assert ours == code.replace("from zenml.", "from stackctl.")


def test_active_stack_snippet_prints_the_default_stack(workdir: Path, config_dir: Path) -> None:
    result = snippet("active_stack.py", workdir)
    assert (result.rc, result.stderr) == (0, DEFAULT_PROFILE_CREATION)
    store = config_dir / "profiles" / "default" / "artifact_stores" / "default.yaml"
    art_uuid = yaml.safe_load(store.read_text())["uuid"]
    local_store = config_dir / "local_stores" / art_uuid
    assert result.stdout == (
        f"default\ndefault\ndefault\n{local_store}\ndefault\n{local_store}/metadata.db\n")


def test_register_stack_snippet(run, workdir: Path, config_dir: Path) -> None:
    assert run("profile", "list").rc == 0
    first = snippet("register_stack.py", workdir)
    assert (first.rc, first.stdout, first.stderr) == (0, "", REGISTERED_LOCAL)

    before = snapshot(config_dir)
    again = snippet("register_stack.py", workdir)
    assert again.rc == 1
    assert again.stdout == ""
    assert again.stderr.splitlines()[-1] == DUPLICATE
    assert "Registered" not in again.stderr
    assert snapshot(config_dir) == before

    listed = run("stack", "list")
    assert listed.rc == 0
    rows = [line for line in listed.stdout.splitlines() if line.startswith("┃")]
    assert rows[1:] == [
        "┃        │ default    │ default        │ default        │ default      ┃",
        "┃   👉   │ local      │ local          │ local          │ local        ┃",
    ]


def test_python_components_are_stored_like_cli_ones(run, workdir: Path,
                                                    config_dir: Path) -> None:
    assert snippet("register_stack.py", workdir).rc == 0
    assert run("profile", "create", "cli").rc == 0
    assert run("profile", "set", "cli").rc == 0
    for args in (["orchestrator", "register", "local", "--flavor=local"],
                 ["metadata-store", "register", "local", "--flavor=sqlite",
                  "--uri=/tmp/zenml/zenml.db"],
                 ["artifact-store", "register", "local", "--flavor=local",
                  "--path=/tmp/zenml/artifacts"],
                 ["stack", "register", "local", "-o", "local", "-m", "local", "-a", "local"]):
        assert run(*args).rc == 0, args
    profiles = config_dir / "profiles"
    # the reference layout of ZenML 0.10 (zenml-0.x-ondisk.md, "after walk part 2")
    expected = {
        "orchestrators/local.yaml": "name: local\nuuid: <UUID>\n",
        "metadata_stores/local.yaml": "name: local\nupgrade_migration_enabled: true\n"
                                      "uri: /tmp/zenml/zenml.db\nuuid: <UUID>\n",
        "artifact_stores/local.yaml": "name: local\npath: /tmp/zenml/artifacts\nuuid: <UUID>\n",
    }
    for rel, text in expected.items():
        for profile in ("default", "cli"):
            assert UUID.sub("<UUID>", (profiles / profile / rel).read_text()) == text
    python_index = yaml.safe_load((profiles / "default" / "stacks.yaml").read_text())
    cli_index = yaml.safe_load((profiles / "cli" / "stacks.yaml").read_text())
    assert python_index["stacks"]["local"] == cli_index["stacks"]["local"] == {
        "artifact_store": "local", "metadata_store": "local", "orchestrator": "local"}
    for ctype in ("orchestrator", "metadata_store", "artifact_store"):
        assert python_index["stack_components"][ctype]["local"] == \
            cli_index["stack_components"][ctype]["local"]


# -- Repository: discovery and activation, in-process ------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (made by `Repository.initialize`) whose subdirectory is the cwd."""
    from stackctl.repository import Repository

    root = (tmp_path / "project").resolve()
    (root / "sub").mkdir(parents=True)
    Repository.initialize(root)
    monkeypatch.chdir(root / "sub")
    return root


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "elsewhere"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


def _global_active_stack(config_dir: Path, profile: str = "default") -> str:
    config = yaml.safe_load((config_dir / "config.yaml").read_text())
    return str(config["profiles"][profile]["active_stack"])


def _local_settings(root: Path) -> dict[str, str]:
    data = yaml.safe_load((root / ".zen" / "config.yaml").read_text())
    return {"profile": data["active_profile_name"], "stack": data["active_stack_name"]}


def _register_copy_of_default(name: str) -> None:
    from stackctl.repository import Repository

    repo = Repository()
    default = repo.get_stack("default")
    repo.register_stack(type(default).from_components(name, default.components))


def test_outside_a_repository_activation_is_global(outside: Path, config_dir: Path) -> None:
    from stackctl.repository import Repository

    repo = Repository()
    assert repo.root is None
    assert (repo.active_profile_name, repo.active_stack_name) == ("default", "default")
    _register_copy_of_default("other")
    repo.activate_stack("other")
    assert repo.active_stack_name == "other"
    assert repo.active_stack.name == "other"
    assert _global_active_stack(config_dir) == "other"


def test_inside_a_repository_activation_is_local(project: Path, config_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from stackctl.repository import Repository

    repo = Repository()
    assert repo.root == project
    _register_copy_of_default("other")
    repo.activate_stack("other")
    assert _local_settings(project) == {"profile": "default", "stack": "other"}
    assert _global_active_stack(config_dir) == "default"
    assert repo.active_stack_name == "other"
    # a Repository made elsewhere, outside, still sees the global setting
    assert Repository(project.parent).root is None
    assert "Unable to find stackctl repository at path" in capsys.readouterr().err


def test_activate_profile_inside_and_outside(project: Path, config_dir: Path) -> None:
    from stackctl.operations import profiles
    from stackctl.repository import Repository
    from stackctl.workspace import Workspace

    profiles.create(Workspace(), "team")
    Repository().activate_profile("team")
    assert _local_settings(project) == {"profile": "team", "stack": "default"}
    config = yaml.safe_load((config_dir / "config.yaml").read_text())
    assert config["activated_profile"] == "default"
    assert Repository().active_profile.name == "team"

    Repository(project.parent.parent).activate_profile("team")  # not a repository: global
    config = yaml.safe_load((config_dir / "config.yaml").read_text())
    assert config["activated_profile"] == "team"


def test_explicit_root_and_env_var(project: Path, outside: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from stackctl.repository import Repository

    assert Repository().root is None  # cwd is outside now
    assert capsys.readouterr().err == ""  # a script merely run outside one is not warned
    assert Repository(project).root == project
    monkeypatch.setenv("STACKCTL_REPOSITORY_PATH", str(project))
    assert Repository().root == project
    monkeypatch.setenv("STACKCTL_REPOSITORY_PATH", str(outside))
    assert Repository().root is None
    assert f"Unable to find stackctl repository at path '{outside}'" in capsys.readouterr().err


def test_initialize_twice_is_refused(project: Path) -> None:
    from stackctl.repository import Repository

    with pytest.raises(AlreadyExistsError, match="Found existing stackctl repository"):
        Repository.initialize(project)
    assert Repository.is_repository_directory(project)


def test_register_stack_with_clashing_component_writes_nothing(outside: Path,
                                                               config_dir: Path) -> None:
    from stackctl.artifact_stores import LocalArtifactStore
    from stackctl.repository import Repository
    from stackctl.stack import Stack

    repo = Repository()
    default = repo.active_stack
    before = snapshot(config_dir)
    other_store = LocalArtifactStore(name="default", path="/somewhere/else")
    stack = Stack("mine", default.orchestrator, default.metadata_store, other_store)
    with pytest.raises(AlreadyExistsError, match="artifact_store 'default'") as caught:
        repo.register_stack(stack)
    assert "Nothing was registered" in caught.value.message
    assert snapshot(config_dir) == before


def test_components_and_stacks_round_trip(outside: Path) -> None:
    from stackctl.orchestrators import LocalOrchestrator
    from stackctl.repository import Repository

    repo = Repository()
    orchestrator = LocalOrchestrator(name="spare")
    repo.register_stack_component(orchestrator)
    assert repo.get_stack_component("orchestrator", "spare") == orchestrator
    assert [c.name for c in repo.get_stack_components(ComponentType.ORCHESTRATOR)] == [
        "default", "spare"]
    assert {(c.type.value, c.name) for c in repo.stack_components} == {
        ("orchestrator", "default"), ("orchestrator", "spare"),
        ("metadata_store", "default"), ("artifact_store", "default")}
    assert [s.name for s in repo.stacks] == ["default"]
    assert repo.stack_configurations == {"default": {
        ComponentType.ORCHESTRATOR: "default", ComponentType.METADATA_STORE: "default",
        ComponentType.ARTIFACT_STORE: "default"}}
    repo.deregister_stack_component("orchestrator", "spare")
    with pytest.raises(NotFoundError, match="No orchestrator found for name 'spare'"):
        repo.get_stack_component(ComponentType.ORCHESTRATOR, "spare")


def test_deregistering_what_is_in_use_is_refused(outside: Path) -> None:
    from stackctl.repository import Repository

    repo = Repository()
    with pytest.raises(IntegrityError, match="cannot be deleted while it is globally active"):
        repo.deregister_stack("default")
    with pytest.raises(IntegrityError, match="part of a registered stack"):
        repo.deregister_stack_component("orchestrator", "default")
    _register_copy_of_default("spare")
    repo.deregister_stack("spare")
    assert [s.name for s in repo.stacks] == ["default"]


# -- component and stack objects ------------------------------------------------------


def test_components_validate_like_the_cli(run) -> None:
    from stackctl.artifact_stores import LocalArtifactStore
    from stackctl.metadata_stores import MySQLMetadataStore

    with pytest.raises(ConfigValidationError) as missing:
        LocalArtifactStore(name="a")
    cli = run("artifact-store", "register", "a", "--flavor=local")
    assert cli.rc == 1
    assert f"Error: {missing.value.message}\n" in cli.stderr
    assert missing.value.message.startswith(
        "When you are registering a new artifact store with the flavor `local`")
    with pytest.raises(ConfigValidationError, match="'abc' is not of type 'integer'"):
        MySQLMetadataStore(name="m", host="h", database="d", port="abc")
    with pytest.raises(ConfigValidationError, match="unknown field 'bogus'"):
        LocalArtifactStore(name="a", path="/x", bogus=1)


def test_component_attributes() -> None:
    from stackctl.artifact_stores import S3ArtifactStore
    from stackctl.metadata_stores import SQLiteMetadataStore

    store = SQLiteMetadataStore(name="meta", uri="/tmp/m.db")
    assert (store.name, store.uri, store.upgrade_migration_enabled) == ("meta", "/tmp/m.db", True)
    assert (store.TYPE, store.FLAVOR) == (ComponentType.METADATA_STORE, "sqlite")
    assert UUID.fullmatch(store.uuid)
    assert store.config == {"uri": "/tmp/m.db", "upgrade_migration_enabled": True}
    store.uri = "/tmp/n.db"
    assert store.to_model().config["uri"] == "/tmp/n.db"
    with pytest.raises(ConfigValidationError, match="When you are updating a metadata store"):
        store.upgrade_migration_enabled = "often"
    with pytest.raises(AttributeError):
        store.no_such_field = 1
    with pytest.raises(AttributeError):
        _ = store.no_such_field
    assert StackComponent.from_model(store.to_model()) == store
    secret = S3ArtifactStore(name="s3", path="s3://bucket", key="AKIA", secret="hush")
    assert "hush" not in repr(secret)
    assert "AKIA" not in repr(secret)
    assert secret.secret == "hush"


def test_stack_checks_slots_with_the_one_rule() -> None:
    from stackctl.artifact_stores import LocalArtifactStore
    from stackctl.metadata_stores import SQLiteMetadataStore
    from stackctl.orchestrators import LocalOrchestrator
    from stackctl.stack import Stack

    orch = LocalOrchestrator(name="o")
    meta = SQLiteMetadataStore(name="m", uri="/tmp/m.db")
    art = LocalArtifactStore(name="a", path="/tmp/a")
    stack = Stack("s", orch, meta, art)
    assert list(stack.components) == [ComponentType.ORCHESTRATOR, ComponentType.METADATA_STORE,
                                      ComponentType.ARTIFACT_STORE]
    assert (stack.orchestrator, stack.container_registry) == (orch, None)
    with pytest.raises(IntegrityError) as caught:
        Stack("s", orchestrator=meta, metadata_store=meta, artifact_store=art)  # type: ignore[arg-type]
    assert caught.value.message == (
        "Component 'm' is a metadata store, not an orchestrator; it cannot fill the "
        "orchestrator slot of stack 's'.")


def test_every_builtin_flavor_has_its_zenml_class() -> None:
    for (ctype, name), flavor in flavors.builtin_flavors().items():
        klass = component_class(ctype, name)
        assert klass.__name__ == flavor.source.rsplit(".", 1)[1]
        assert klass.__module__ == f"stackctl.{ctype.plural}"
        assert klass.TYPE is ctype
        assert name == klass.FLAVOR
    with pytest.raises(NotFoundError, match="There is no flavor 'nope' for the type orchestrator"):
        component_class("orchestrator", "nope")
