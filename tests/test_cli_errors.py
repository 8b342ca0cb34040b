"""Every error case of the imperative CLI: exact message, exit code, and nothing changed.

Each case runs the installed `stackctl`; where ZenML 0.10 behaved poorly (a
traceback, exit 0 on a failed delete, a silent overwrite, a half-done copy) the
case says so and checks that stackctl does better. "Nothing changed" compares
the whole global config directory, file names and contents, before and after.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import Result, snapshot

pytestmark = pytest.mark.usefixtures("default_profile")


@pytest.fixture
def default_profile(run) -> None:
    assert run("profile", "list").rc == 0


@pytest.fixture
def unchanged(default_profile: None, config_dir: Path) -> Iterator[None]:
    """The test's commands must leave the config directory exactly as it was."""
    before = snapshot(config_dir)
    yield
    assert snapshot(config_dir) == before


def error(result: Result, expected: str, rc: int = 1) -> None:
    """``expected`` (message and hint lines) ends stderr; no traceback anywhere."""
    assert result.rc == rc, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.endswith(expected + "\n"), result.stderr


def ok(result: Result) -> Result:
    assert result.rc == 0, result.stderr
    return result


@pytest.fixture
def my_stack(run, tmp_path: Path) -> None:
    """An artifact store, an orchestrator, a metadata store and the stack my_stack of them."""
    ok(run("artifact-store", "register", "my_store", "--flavor=local",
           f"--path={tmp_path / 'artifacts'}"))
    ok(run("orchestrator", "register", "my_orch", "--flavor=local"))
    ok(run("metadata-store", "register", "my_meta", "--flavor=sqlite",
           f"--uri={tmp_path / 'meta' / 'metadata.db'}"))
    ok(run("stack", "register", "my_stack", "-o", "my_orch", "-a", "my_store", "-m", "my_meta"))


# -- stack register ------------------------------------------------------------------


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_stack_with_unknown_component(run) -> None:
    # ZenML 0.10: a KeyError traceback
    error(run("stack", "register", "s", "-o", "default", "-m", "default", "-a", "no_such_store"),
          "Error: Unable to find stack component (type: artifact_store) with name "
          "'no_such_store'.\n  hint: Available names: default, my_store.")


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_stack_with_component_of_the_wrong_type(run) -> None:
    error(run("stack", "register", "s", "-o", "default", "-m", "default", "-a", "default",
              "-c", "my_store"),
          "Error: Component 'my_store' is an artifact store, not a container registry; it "
          "cannot fill the container_registry slot of stack 's'.")
    error(run("stack", "register", "s", "-o", "my_meta", "-m", "default", "-a", "default"),
          "Error: Component 'my_meta' is a metadata store, not an orchestrator; it cannot fill "
          "the orchestrator slot of stack 's'.")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("args", "missing"), [
    (["-o", "default", "-a", "default"], "'-m' / '--metadata-store'"),
    (["-m", "default", "-a", "default"], "'-o' / '--orchestrator'"),
    (["-o", "default", "-m", "default"], "'-a' / '--artifact-store'"),
])
def test_stack_without_a_mandatory_component(run, args: list[str], missing: str) -> None:
    result = run("stack", "register", "s", *args)
    assert result.rc == 2
    assert result.stderr == (
        "Usage: stackctl stack register [OPTIONS] NAME\n"
        "Try 'stackctl stack register --help' for help.\n\n"
        f"Error: Missing option {missing}.\n")


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_duplicate_stack(run) -> None:
    # ZenML 0.10: a StackExistsError traceback
    error(run("stack", "register", "my_stack", "-o", "default", "-m", "default",
              "-a", "default"),
          "Error: Unable to register stack with name 'my_stack': Found existing stack with "
          "this name.")


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_unknown_stack_or_component_by_name(run) -> None:
    # ZenML 0.10: `stack set` gave a KeyError traceback
    error(run("stack", "set", "no_such_stack"),
          "Error: Unable to find stack with name 'no_such_stack'.\n"
          "  hint: Available names: default, my_stack.")
    error(run("stack", "describe", "no_such_stack"),
          "Error: Unable to find stack with name 'no_such_stack'.\n"
          "  hint: Available names: default, my_stack.")
    error(run("orchestrator", "describe", "no_such"),
          "Error: No orchestrator found for name 'no_such'.\n"
          "  hint: See `stackctl orchestrator list`.")
    error(run("artifact-store", "update", "no_such", "--path=/x"),
          "Error: No artifact store found for name 'no_such'.\n"
          "  hint: See `stackctl artifact-store list`.")


# -- component register / update --------------------------------------------------------


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_duplicate_component(run, tmp_path: Path) -> None:
    error(run("artifact-store", "register", "my_store", "--flavor=local", f"--path={tmp_path}"),
          "Error: Unable to register stack component (type: artifact_store) with name "
          "'my_store': Found existing stack component with this name.")


@pytest.mark.usefixtures("unchanged")
def test_unknown_flavor(run) -> None:
    error(run("artifact-store", "register", "a", "--flavor=nonexistent"),
          "Error: There is no flavor 'nonexistent' for the type artifact_store.\n"
          "  hint: Available flavors: azure, gcp, local, s3.")


PROBLEMS = ("make sure that you are utilizing the right attributes. Current problems:\n")


@pytest.mark.usefixtures("unchanged")
def test_missing_required_field(run) -> None:
    error(run("artifact-store", "register", "a", "--flavor=local"),
          "Error: When you are registering a new artifact store with the flavor `local`, "
          f"{PROBLEMS}  (config): 'path' is required\n"
          "  hint: See `stackctl artifact-store flavor list` and the schema "
          "schemas/flavors/artifact_store/local.json.")


@pytest.mark.usefixtures("unchanged")
def test_unknown_key(run) -> None:
    error(run("artifact-store", "register", "a", "--flavor=local", "--path=/x", "--bogus=1"),
          "Error: When you are registering a new artifact store with the flavor `local`, "
          f"{PROBLEMS}  bogus: unknown field 'bogus' for flavor 'local' (valid fields: path)\n"
          "  hint: See `stackctl artifact-store flavor list` and the schema "
          "schemas/flavors/artifact_store/local.json.")


@pytest.mark.usefixtures("unchanged")
def test_wrong_value_type(run) -> None:
    error(run("metadata-store", "register", "m", "--flavor=mysql", "--host=db",
              "--database=zenml", "--port=abc"),
          "Error: When you are registering a new metadata store with the flavor `mysql`, "
          f"{PROBLEMS}  port: 'abc' is not of type 'integer'\n"
          "  hint: See `stackctl metadata-store flavor list` and the schema "
          "schemas/flavors/metadata_store/mysql.json.")


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_update_with_a_wrong_value(run) -> None:
    error(run("metadata-store", "update", "my_meta", "--upgrade_migration_enabled=often"),
          "Error: When you are updating a metadata store with the flavor `sqlite`, "
          f"{PROBLEMS}  upgrade_migration_enabled: 'often' is not of type 'boolean'\n"
          "  hint: See `stackctl metadata-store flavor list` and the schema "
          "schemas/flavors/metadata_store/sqlite.json.")


# -- deleting -------------------------------------------------------------------------------


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_delete_component_in_use(run) -> None:
    # ZenML 0.10: a ValueError traceback
    error(run("orchestrator", "delete", "my_orch"),
          "Error: Unable to delete stack component (type: orchestrator, name: my_orch) that is "
          "part of a registered stack (stack name: 'my_stack').\n"
          "  hint: Delete or change those stacks first.")


@pytest.mark.usefixtures("unchanged")
def test_delete_unknown_component_fails(run) -> None:
    # ZenML 0.10 printed "Deleted orchestrator: no_such" and exited 0
    error(run("orchestrator", "delete", "no_such"),
          "Error: Unable to delete stack component (type: orchestrator) with name 'no_such': "
          "No stack component with this name could be found.\n"
          "  hint: See `stackctl orchestrator list`.")


@pytest.mark.usefixtures("unchanged")
def test_delete_unknown_stack_fails(run) -> None:
    # ZenML 0.10 printed "Deleted stack 'no_such_stack'." and exited 0
    error(run("stack", "delete", "no_such_stack", "-y"),
          "Error: Unable to find stack with name 'no_such_stack'.\n"
          "  hint: Available names: default.")


@pytest.mark.usefixtures("my_stack")
def test_delete_the_globally_active_stack(run, config_dir: Path) -> None:
    ok(run("stack", "set", "my_stack"))
    before = snapshot(config_dir)
    error(run("stack", "delete", "my_stack", "-y"),
          "Error: Stack my_stack cannot be deleted while it is globally active.\n"
          "  hint: Choose a different active stack first by running "
          "'stackctl stack set [--global] STACK'.")
    assert snapshot(config_dir) == before


@pytest.mark.usefixtures("my_stack")
def test_delete_the_locally_active_stack(run, config_dir: Path, workdir: Path) -> None:
    ok(run("init"))
    ok(run("stack", "set", "my_stack"))  # inside the repository: only locally
    before = snapshot(config_dir)
    error(run("stack", "delete", "my_stack", "-y"),
          f"Error: Stack my_stack cannot be deleted while it is active in the repository at "
          f"'{workdir}'.\n"
          "  hint: Choose a different active stack first by running "
          "'stackctl stack set [--global] STACK'.")
    assert snapshot(config_dir) == before


@pytest.mark.usefixtures("my_stack")
def test_stack_delete_needs_a_terminal_or_yes(run, config_dir: Path) -> None:
    before = snapshot(config_dir)
    error(run("stack", "delete", "my_stack"),
          "Error: Refusing to delete stack 'my_stack' without confirmation: there is no "
          "terminal to ask on.\n  hint: Pass -y/--yes to confirm.")
    assert snapshot(config_dir) == before
    deleted = ok(run("stack", "delete", "my_stack", "-y"))
    assert deleted.stderr.endswith("Deleted stack 'my_stack'.\n")
    stacks = yaml.safe_load((config_dir / "profiles/default/stacks.yaml").read_text())
    assert set(stacks["stacks"]) == {"default"}
    assert "my_orch" in stacks["stack_components"]["orchestrator"]  # components stay


# -- profiles --------------------------------------------------------------------------------


def test_profile_errors(run, config_dir: Path) -> None:
    ok(run("profile", "create", "zenml-test"))
    before = snapshot(config_dir)
    error(run("profile", "create", "zenml-test"), "Error: Profile 'zenml-test' already exists.")
    error(run("profile", "set", "no_such_profile"),
          "Error: Error activating profile: \"Profile 'no_such_profile' not found.\".\n"
          "  hint: See `stackctl profile list`.")
    error(run("profile", "delete", "default"),
          "Error: Profile 'default' cannot be deleted because it's globally active.\n"
          "  hint: Choose a different active global profile first by running "
          "'stackctl profile set --global PROFILE'.")
    assert snapshot(config_dir) == before


def test_profile_delete_of_another_profile(run, config_dir: Path) -> None:
    ok(run("profile", "create", "zenml-test"))
    assert (config_dir / "profiles" / "zenml-test" / "stacks.yaml").is_file()
    deleted = ok(run("profile", "delete", "zenml-test"))
    assert deleted.stderr.endswith("Deleted profile 'zenml-test'.\n")
    assert not (config_dir / "profiles" / "zenml-test").exists()
    config = yaml.safe_load((config_dir / "config.yaml").read_text())
    assert set(config["profiles"]) == {"default"}


def test_repository_whose_profile_was_deleted(run, workdir: Path) -> None:
    ok(run("profile", "create", "zenml-test"))
    ok(run("init"))
    ok(run("profile", "set", "zenml-test"))  # locally
    ok(run("profile", "delete", "zenml-test"))
    listed = ok(run("stack", "list"))
    assert listed.stderr.splitlines()[:2] == [
        "Profile zenml-test not found. Switching repository to the global active profile default",
        "Running with active profile: 'default' (local)",
    ]
    settings = yaml.safe_load((workdir / ".zen" / "config.yaml").read_text())
    assert (settings["active_profile_name"], settings["active_stack_name"]) == (
        "default", "default")


# -- repositories ----------------------------------------------------------------------------


def test_init_twice(run, workdir: Path) -> None:
    ok(run("init"))
    before = (workdir / ".zen" / "config.yaml").read_text()
    error(run("init"), f"Error: Found existing stackctl repository at path '{workdir}'.")
    assert (workdir / ".zen" / "config.yaml").read_text() == before


@pytest.mark.usefixtures("unchanged")
def test_repository_path_env_var_to_a_non_repository(run, tmp_path: Path) -> None:
    result = ok(run("stack", "list", env={"STACKCTL_REPOSITORY_PATH": str(tmp_path / "x")}))
    assert result.stderr.splitlines() == [
        f"Unable to find stackctl repository at path '{tmp_path / 'x'}'. Make sure to create a "
        "stackctl repository by calling stackctl init when specifying an explicit repository "
        "path in code or via the environment variable 'STACKCTL_REPOSITORY_PATH'.",
        "Running without an active repository root.",
        "Running with active profile: 'default' (global)",
    ]
    assert "default" in result.stdout


# -- stack copy --------------------------------------------------------------------------------


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_copy_unknown_stack(run) -> None:
    error(run("stack", "copy", "no_such", "x"),
          "Error: Stack `no_such` cannot be copied as it does not exist.\n"
          "  hint: Stacks in profile 'default': default, my_stack.")


@pytest.mark.usefixtures("my_stack", "unchanged")
def test_copy_onto_an_existing_name_is_refused(run) -> None:
    # ZenML 0.10 silently overwrote the target stack
    error(run("stack", "copy", "my_stack", "default"),
          "Error: Stack 'default' already exists in profile 'default'.\n"
          "  hint: Delete it first or choose another name; stackctl never overwrites it.")


@pytest.mark.usefixtures("my_stack")
def test_copy_to_a_profile_with_clashing_components_writes_nothing(
        run, config_dir: Path) -> None:
    ok(run("profile", "create", "other"))
    ok(run("stack", "register", "uses_default", "-o", "default", "-m", "default",
           "-a", "my_store"))
    before = snapshot(config_dir)
    # ZenML 0.10 registered some components, then failed with a traceback
    error(run("stack", "copy", "uses_default", "copied", "--to", "other"),
          "Error: Cannot copy stack 'uses_default' to profile 'other': it already has different "
          "components named metadata_store 'default'. Nothing was copied.\n"
          "  hint: Rename or delete those components in the target profile first.")
    assert snapshot(config_dir) == before


@pytest.mark.usefixtures("my_stack")
def test_copy_to_another_profile(run, config_dir: Path) -> None:
    ok(run("profile", "create", "other"))
    ok(run("stack", "copy", "my_stack", "copied", "--to", "other"))
    other = yaml.safe_load((config_dir / "profiles/other/stacks.yaml").read_text())
    assert other["stacks"]["copied"] == {
        "artifact_store": "my_store", "metadata_store": "my_meta", "orchestrator": "my_orch"}
    for rel in ("artifact_stores/my_store.yaml", "metadata_stores/my_meta.yaml",
                "orchestrators/my_orch.yaml"):
        assert (config_dir / "profiles/other" / rel).read_text() == \
            (config_dir / "profiles/default" / rel).read_text()


# -- hand-broken files --------------------------------------------------------------------------


def test_broken_stacks_yaml(run, config_dir: Path) -> None:
    path = config_dir / "profiles" / "default" / "stacks.yaml"
    path.write_text("stacks:\n  default: {artifact_store: default\n  other: []\n")
    before = snapshot(config_dir)
    for args in (["stack", "list"],
                 ["stack", "register", "s", "-o", "default", "-m", "default", "-a", "default"]):
        error(run(*args),
              f"Error: {path}:3:8: Cannot parse this file: did not find expected ',' or '}}'.\n"
              "  hint: Fix or restore the file by hand; stackctl will not overwrite it.")
    assert snapshot(config_dir) == before


def test_component_file_that_is_a_list(run, config_dir: Path) -> None:
    path = config_dir / "profiles" / "default" / "orchestrators" / "default.yaml"
    path.write_text("- name: default\n")
    before = snapshot(config_dir)
    for args in (["orchestrator", "list"], ["stack", "describe", "default"],
                 ["orchestrator", "register", "o2", "--flavor=local"]):
        error(run(*args),
              f"Error: {path}:1:1: Expected a mapping at the top of this file, found list.\n"
              "  hint: Fix or restore the file by hand; stackctl will not overwrite it.")
    # `stack list` reads only stacks.yaml, so a broken component file does not stop it
    ok(run("stack", "list"))
    assert snapshot(config_dir) == before


# -- secrets ------------------------------------------------------------------------------------


def test_secret_values_are_never_shown(run, config_dir: Path) -> None:
    ok(run("artifact-store", "register", "s3_store", "--flavor=s3", "--path=s3://bucket/zenml",
           "--key=AKIAEXAMPLEKEY", "--secret=VerySecretValue"))
    outputs = [run("artifact-store", "list"), run("artifact-store", "list", "--format", "json"),
               run("artifact-store", "describe", "s3_store"),
               run("artifact-store", "describe", "s3_store", "--format", "json")]
    for result in outputs:
        ok(result)
        for secret in ("AKIAEXAMPLEKEY", "VerySecretValue"):
            assert secret not in result.stdout + result.stderr
        assert "(sensitive)" in result.stdout
    described = json.loads(outputs[3].stdout)
    assert (described["key"], described["secret"], described["token"]) == (
        "(sensitive)", "(sensitive)", None)
    path = config_dir / "profiles/default/artifact_stores/s3_store.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["secret"] == "VerySecretValue"
    default = config_dir / "profiles/default/artifact_stores/default.yaml"
    assert stat.S_IMODE(default.stat().st_mode) == 0o644


# -- stack up / down ---------------------------------------------------------------------------


@pytest.mark.usefixtures("my_stack")
def test_stack_up_and_down(run, tmp_path: Path) -> None:
    ok(run("stack", "set", "my_stack"))
    artifacts, meta_dir = tmp_path / "artifacts", tmp_path / "meta"
    assert not artifacts.exists()
    assert not meta_dir.exists()
    up = ok(run("stack", "up"))
    assert artifacts.is_dir()
    assert meta_dir.is_dir()
    assert "Provisioning resources for active stack 'my_stack'." in up.stderr
    (artifacts / "artifact.bin").write_bytes(b"x")
    (meta_dir / "metadata.db").write_bytes(b"db")
    ok(run("stack", "down"))
    assert (artifacts / "artifact.bin").exists()
    assert (meta_dir / "metadata.db").exists()
    ok(run("stack", "down", "--force"))
    assert not artifacts.exists()
    assert not (meta_dir / "metadata.db").exists()


# -- JSON output -------------------------------------------------------------------------------


@pytest.mark.usefixtures("my_stack")
def test_json_outputs(run, config_dir: Path, tmp_path: Path) -> None:
    profiles = json.loads(ok(run("profile", "list", "--format", "json")).stdout)
    assert profiles == [{"active": True, "profile_name": "default", "store_type": "local",
                         "url": f"file://{config_dir}/profiles/default",
                         "active_stack": "default"}]
    stacks = json.loads(ok(run("stack", "list", "--format", "json")).stdout)
    assert stacks == [
        {"active": True, "stack_name": "default", "artifact_store": "default",
         "metadata_store": "default", "orchestrator": "default"},
        {"active": False, "stack_name": "my_stack", "artifact_store": "my_store",
         "metadata_store": "my_meta", "orchestrator": "my_orch"},
    ]
    components = json.loads(ok(run("orchestrator", "list", "--format", "json")).stdout)
    assert [(c["name"], c["flavor"], c["active"]) for c in components] == [
        ("default", "local", True), ("my_orch", "local", False)]
    assert all(len(c["uuid"]) == 36 for c in components)
    described = json.loads(ok(run("metadata-store", "describe", "my_meta", "--format",
                                  "json")).stdout)
    assert described == {
        "name": "my_meta", "type": "metadata_store", "flavor": "sqlite",
        "uuid": described["uuid"], "upgrade_migration_enabled": True,
        "uri": str(tmp_path / "meta" / "metadata.db"), "active": False}
