"""`stackctl validate` anywhere: no secret, every environment, only stackctl files, hostile files.

These run the installed CLI (what a pre-commit hook or CI step runs) or the
compiler in-process where a limit has to be lowered to keep the test short.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from unittest import mock

import pytest
from helpers import STACKCTL, run_process, snapshot

from stackctl.compiler import load as load_module
from stackctl.compiler import render
from stackctl.compiler.compile import compile_manifests
from stackctl.compiler.project import Inputs

ROOT = Path(__file__).resolve().parents[1]
MULTI_ENV = ROOT / "examples" / "multi-env"
COMPONENT = """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: NAME}
spec: {type: orchestrator, flavor: local}
"""
SECRET = "s3cr3t-only-outside-the-project-7731"


def _env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


def _validate(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    import subprocess

    proc = subprocess.run([STACKCTL, "validate", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
                          env=env if env is not None else dict(os.environ))
    return proc.returncode, proc.stdout, proc.stderr


# -- no secrets, every environment ------------------------------------------------------------


def test_multi_env_example_validates_without_secrets_or_env(tmp_path: Path) -> None:
    project = tmp_path / "multi-env"
    shutil.copytree(MULTI_ENV, project)
    rc, out, err = _validate(project, env=_env_without("ML_MYSQL_PASSWORD"))
    assert (rc, out) == (0, "")
    assert err.strip() == "2 files, 5 documents, environments dev, prod: valid."


def test_plan_without_the_secret_names_the_variable(tmp_path: Path, config_dir: Path) -> None:
    project = tmp_path / "multi-env"
    shutil.copytree(MULTI_ENV, project)
    before = snapshot(config_dir)
    env = _env_without("ML_MYSQL_PASSWORD")
    import subprocess

    proc = subprocess.run([STACKCTL, "plan", "-e", "prod"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert ("manifests/stack.yaml.j2:23:23: error: environment variable ML_MYSQL_PASSWORD is "
            "not set (env.ML_MYSQL_PASSWORD) [template-undefined]") in proc.stderr
    assert "hint: export ML_MYSQL_PASSWORD=… before running plan or apply" in proc.stderr
    assert "--var" not in proc.stdout + proc.stderr  # --var is for vars.*, not env.*
    assert snapshot(config_dir) == before
    result = run_process([STACKCTL, "plan", "-e", "prod"], project,
                         env={"ML_MYSQL_PASSWORD": "pw"})
    assert result.rc == 0, result.stderr


def test_every_undefined_variable_is_reported_for_plan(tmp_path: Path) -> None:
    (tmp_path / "m.yaml.j2").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: s3}\nspec:\n"
        "  type: artifact_store\n  flavor: s3\n  config:\n"
        "    path: s3://{{ vars.bucket }}/{{ env.STACKCTL_T_UNSET_A }}\n"
        "    key: '{{ env.STACKCTL_T_UNSET_B }}'\n")
    compiled = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path, environ={})
    got = [(d.location.line, d.location.column, d.message, d.hint) for d in compiled.diagnostics]
    assert got == [
        (8, 24, "undefined variable vars.bucket",
         "define it (project vars, -e/--env, --var-file, --var bucket=…), or give a default: "
         "{{ vars.bucket | default('…') }}"),
        (8, 41, "environment variable STACKCTL_T_UNSET_A is not set (env.STACKCTL_T_UNSET_A)",
         "export STACKCTL_T_UNSET_A=… before running plan or apply (validate needs no value)"),
        (9, 18, "environment variable STACKCTL_T_UNSET_B is not set (env.STACKCTL_T_UNSET_B)",
         "export STACKCTL_T_UNSET_B=… before running plan or apply (validate needs no value)"),
    ]
    offline = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path, environ={},
                                offline=True)
    assert [d.message for d in offline.diagnostics] == ["undefined variable vars.bucket"]


def _two_env_project(root: Path) -> None:
    (root / "stackctl.yaml").write_text(
        "manifests: [m]\nenvironments:\n  dev: {bucket: ml-dev}\n  prod: {region: x}\n")
    (root / "m").mkdir()
    (root / "m" / "s3.yaml.j2").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: s3}\nspec:\n"
        "  type: artifact_store\n  flavor: s3\n  config: {path: 's3://{{ vars.bucket }}'}\n")
    (root / "m" / "broken.yaml").write_text(COMPONENT.replace("local}", "local, bogus: 1}")
                                            .replace("NAME", "o"))


def test_each_environment_is_checked_and_named_only_when_it_differs(tmp_path: Path) -> None:
    _two_env_project(tmp_path)
    with mock.patch.object(load_module, "load_text", wraps=load_module.load_text) as parse:
        compiled = compile_manifests(Inputs(paths=()), cwd=tmp_path, environ={}, offline=True,
                                     every_environment=True)
    messages = [(Path(d.location.path).name, d.rule, d.message) for d in compiled.diagnostics]
    assert messages == [
        ("broken.yaml", "unknown-field", "unknown field 'bogus' in spec"),  # once: both envs
        ("s3.yaml.j2", "template-undefined", "undefined variable vars.bucket (environment prod)"),
    ]
    assert compiled.environments == ("dev", "prod")
    parsed = [Path(call.args[1]).name for call in parse.call_args_list
              if Path(call.args[1]).name != "stackctl.yaml"]
    assert sorted(parsed) == ["broken.yaml", "s3.yaml.j2"]  # the template rendered twice,
    # but failed in prod before YAML; the plain file parsed once for both environments
    narrowed = compile_manifests(Inputs(paths=(), env="dev"), cwd=tmp_path, environ={},
                                 offline=True, every_environment=True)
    assert [d.rule for d in narrowed.diagnostics] == ["unknown-field"]


def test_cli_names_environments_and_narrows_with_e(tmp_path: Path) -> None:
    _two_env_project(tmp_path)
    rc, out, _ = _validate(tmp_path)
    assert rc == 1
    assert "m/s3.yaml.j2:7:32: error: undefined variable vars.bucket (environment prod) " \
           "[template-undefined]" in out
    rc, out, _ = _validate(tmp_path, "-e", "dev")
    assert rc == 1
    assert "environment" not in out
    assert "bogus" in out


def test_placeholder_passes_text_fields_and_names_the_problem_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "db.yaml.j2").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: db}\nspec:\n"
        "  type: metadata_store\n  flavor: mysql\n  config:\n"
        "    host: db\n    port: {{ env.STACKCTL_T_PORT }}\n    database: zenml\n"
        "    username: zenml\n    password: {{ env.STACKCTL_T_PASSWORD | tojson }}\n")
    rc, out, _ = _validate(tmp_path, env=_env_without("STACKCTL_T_PORT", "STACKCTL_T_PASSWORD"))
    assert rc == 1
    assert out.splitlines() == [
        "db.yaml.j2:9:11: error: spec.config.port takes env.STACKCTL_T_PORT, which is not set: "
        "validation puts a placeholder text there, and spec.config.port needs an integer "
        "[template-placeholder]",
        "    hint: export STACKCTL_T_PORT=… to validate this value, or convert it: "
        "{{ env.STACKCTL_T_PORT | int }}",
    ]
    rc, out, _ = _validate(tmp_path, env={**os.environ, "STACKCTL_T_PORT": "3306"})
    assert (rc, out) == (0, ""), out


# -- only stackctl files ------------------------------------------------------------------------


def test_other_yaml_is_skipped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  web: {image: nginx}\n")
    (tmp_path / "k8s.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "o.yaml").write_text(COMPONENT.replace("NAME", "o"))
    rc, out, err = _validate(tmp_path)
    assert (rc, out) == (0, "")
    assert err.strip() == ("1 file, 1 document: valid. "
                           "3 files skipped: not stackctl manifests.")


def test_no_manifest_is_an_error_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    rc, out, _ = _validate(tmp_path)
    assert rc == 1
    assert out.splitlines()[0] == ".: error: no stackctl manifests found under . [no-manifests]"
    empty = tmp_path / "moved"
    empty.mkdir()
    rc, out, _ = _validate(tmp_path, "moved")
    assert (rc, out.splitlines()[0]) == (
        1, "moved: error: no stackctl manifests found under moved [no-manifests]")
    rc, out, err = _validate(tmp_path, "--allow-empty")
    assert (rc, out) == (0, "")
    assert "0 files, 0 documents: valid. 1 file skipped" in err


def test_project_manifests_and_exclude_globs(tmp_path: Path) -> None:
    (tmp_path / "stackctl.yaml").write_text(
        "manifests: ['stacks/**/*.yaml']\nexclude: ['stacks/drafts/**']\n")
    (tmp_path / "stacks" / "a" / "drafts").mkdir(parents=True)
    (tmp_path / "stacks" / "drafts").mkdir()
    (tmp_path / "stacks" / "a" / "o.yaml").write_text(COMPONENT.replace("NAME", "o"))
    (tmp_path / "stacks" / "drafts" / "wip.yaml").write_text("not: [valid\n")
    (tmp_path / "stacks" / "a" / "k8s.yaml").write_text("apiVersion: v1\nkind: Service\n")
    (tmp_path / "other.yaml").write_text("kind: [broken\n")  # not in manifests:
    rc, out, _ = _validate(tmp_path)
    assert rc == 1
    # with manifests: declared every file found is a manifest: the Service is an error
    assert out.splitlines()[0] == ("stacks/a/k8s.yaml:1:13: error: apiVersion must be "
                                   "'stackctl/v1'; this document has apiVersion 'v1' "
                                   "[api-version]")
    assert "wip" not in out
    assert "other.yaml" not in out


@pytest.mark.parametrize(("value", "said"), [
    ("null", "an empty apiVersion"), ("3", "a number apiVersion"),
    ("stackctl/v2", "apiVersion 'stackctl/v2'")])
def test_api_version_messages_hold_no_python_repr(tmp_path: Path, value: str, said: str) -> None:
    (tmp_path / "stackctl.yaml").write_text("manifests: [.]\n")
    (tmp_path / "m.yaml").write_text(f"apiVersion: {value}\nkind: Component\n")
    rc, out, _ = _validate(tmp_path)
    assert rc == 1
    assert out.splitlines()[0] == (f"m.yaml:1:13: error: apiVersion must be 'stackctl/v1'; "
                                   f"this document has {said} [api-version]")
    assert "None" not in out


# -- hostile files (issue 10) ---------------------------------------------------------------------


def test_fifo_and_dev_zero_are_refused_not_read(tmp_path: Path) -> None:
    (tmp_path / "o.yaml").write_text(COMPONENT.replace("NAME", "o"))
    os.mkfifo(tmp_path / "x.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    rc, out, _ = _validate(tmp_path)  # a read would block forever: the timeout would fail it
    assert rc == 1
    assert out.splitlines() == [
        "x.yaml: error: not a regular file (a device, FIFO or socket): only regular files are "
        "read [unreadable]",
        "    hint: remove it, or move it out of the manifest directories",
        f"zero.yaml: error: symlink resolves outside the project ({tmp_path}): not read "
        "[symlink-outside]",
        "    hint: pass --follow-symlinks-outside to read it (only if you trust where it points)",
    ]
    rc, out, _ = _validate(tmp_path, "--follow-symlinks-outside")
    assert rc == 1
    assert "zero.yaml: error: not a regular file (a device, FIFO or socket)" in out


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("apiVersion: stackctl/v1\n# " + "x" * (4 * 1024 * 1024))
    rc, out, _ = _validate(tmp_path)
    assert rc == 1
    assert out.splitlines()[0] == ("big.yaml: error: file is larger than 4194304 bytes, the "
                                   "limit for a manifest [unreadable]")


def test_a_manifest_is_read_in_requests_of_its_own_size_not_the_limits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4 MiB request per small file costs the allocator an mmap and a shrink (~100 ms
    over 10,000 files whose bytes are held until compiled)."""
    from stackctl.compiler import read

    path = tmp_path / "o.yaml"
    path.write_text(COMPONENT.replace("NAME", "o"))
    asked: list[int] = []
    real = os.read

    def spy(fd: int, n: int) -> bytes:
        asked.append(n)
        return real(fd, n)

    monkeypatch.setattr(read.os, "read", spy)
    assert read.read_regular(path) == path.read_bytes()
    assert max(asked) == path.stat().st_size + 1


def test_symlink_outside_the_project_is_refused_and_never_printed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(
        f"apiVersion: stackctl/v1\nkind: Component\nmetadata: {{name: {SECRET}}}\n"
        f"spec: {{type: orchestrator, flavor: local, bogus: {SECRET}}}\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "o.yaml").write_text(COMPONENT.replace("NAME", "o"))
    (project / "leak.yaml").symlink_to(outside / "secret.yaml")
    for fmt in ("text", "json", "github", "sarif"):
        rc, out, err = _validate(project, "--format", fmt)
        assert rc == 1
        assert "symlink-outside" in out
        assert SECRET not in out + err
    rc, out, _ = _validate(project, "--follow-symlinks-outside")
    assert rc == 1
    assert "unknown field 'bogus'" in out  # read when allowed


def test_a_file_reached_twice_through_a_symlink_is_one_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(COMPONENT.replace("NAME", "o"))
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").symlink_to("../a.yaml")
    rc, out, err = _validate(tmp_path)
    assert (rc, out) == (0, "")
    assert err.strip() == "1 file, 1 document: valid."


@pytest.mark.parametrize("body", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in 'x' * 100000 %}{% for j in 'y' * 100000 %}{% endfor %}{% endfor %}",
])
def test_template_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    monkeypatch.setattr(render, "TIME_LIMIT", 0.3)
    (tmp_path / "slow.yaml.j2").write_text(f"apiVersion: stackctl/v1\n{body}\n")
    compiled = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path, environ={},
                                 offline=True)
    assert [(d.location.line, d.rule, d.message) for d in compiled.diagnostics] == [
        (2, "template-limit", "template took longer than 0.3 seconds to render")]


@pytest.mark.parametrize(("expression", "message"), [
    ("'a' * 10**10", "template output would exceed 4194304 characters"),
    ("[1] * 10**10", "template output would exceed 4194304 characters"),
    ("'x' | indent(10**10)", "template output would exceed 4194304 characters"),
    ("'x' | center(10**10)", "template output would exceed 4194304 characters"),
    ("'x'.ljust(10**10)", "template output would exceed 4194304 characters"),
    ("'%10000000000s' % 'x'", "template output would exceed 4194304 characters"),
    ("'{:>10000000000}'.format('x')", "template output would exceed 4194304 characters"),
    ("('a' * 4000000) | replace('a', 'bb')", "template output would exceed 4194304 characters"),
    ("2 ** 100000", "template computes a number too large to write"),
])
def test_template_output_limit(tmp_path: Path, expression: str, message: str) -> None:
    (tmp_path / "big.yaml.j2").write_text(
        f"apiVersion: stackctl/v1\nkind: {{{{ {expression} }}}}\n")
    compiled = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path, environ={})
    assert [(d.location.line, d.rule, d.message) for d in compiled.diagnostics] == [
        (2, "template-limit", message)]


def test_template_output_limit_counts_the_whole_file(tmp_path: Path) -> None:
    (tmp_path / "big.yaml.j2").write_text(
        "apiVersion: stackctl/v1\n{% set s = 'a' * 4000000 %}"
        "{% for i in range(10) %}{{ s }}{% endfor %}\n")
    compiled = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path, environ={})
    assert [(d.rule, d.message) for d in compiled.diagnostics] == [
        ("template-limit", "template output would exceed 4194304 characters")]


@pytest.mark.parametrize("grow", [
    "ns.s ~ ns.s", "ns.s + ns.s", "'%s%s' % (ns.s, ns.s)", "[ns.s, ns.s] | join",
    "(ns.s ~ ns.s) | upper",
])
def test_template_output_limit_holds_for_doubling_in_a_loop(tmp_path: Path, grow: str) -> None:
    (tmp_path / "grow.yaml.j2").write_text(
        "apiVersion: stackctl/v1\n{% set ns = namespace(s='ab') %}"
        f"{{% for i in range(60) %}}{{% set ns.s = {grow} %}}{{% endfor %}}\n")
    compiled = compile_manifests(Inputs(paths=(str(tmp_path),)), cwd=tmp_path, environ={})
    assert [(d.location.line, d.rule, d.message) for d in compiled.diagnostics] == [
        (2, "template-limit", "template output would exceed 4194304 characters")]


def test_no_python_repr_or_type_name_in_messages(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: a}\n"
        "spec: {type: artifact_store, flavor: s3, config: {path: null, client_kwargs: true}}\n"
        "---\napiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: s, labels: {a: null}}\n"
        "spec: {components: {orchestrator: default}}\n---\n"
        "apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: 1.5}\n"
        "spec: {type: artifact_store, flavor: local, config: {path: /x}}\n")
    rc, out, _ = _validate(tmp_path)
    assert rc == 1
    messages = [line.split(": error: ", 1)[1] for line in out.splitlines() if ": error: " in line]
    assert messages == [
        "spec.config.path: null is not of type 'string' [flavor-config]",
        "spec.config.client_kwargs: true is not of type 'object' or 'null' [flavor-config]",
        "metadata.labels.a: expected string, found null [wrong-type]",
        "metadata.name: expected string, found number [wrong-type]",
    ]
    for internal in ("None", "True", "float", "dict", "'str'", "['"):
        assert not [m for m in messages if internal in m], internal


def test_a_broken_project_file_says_no_manifest_was_read(tmp_path: Path) -> None:
    """Not "0 files, 0 documents": the manifests were never looked at."""
    (tmp_path / "stackctl.yaml").write_text("moved: 3\n")
    (tmp_path / "m.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Profile\nmetadata: {name: team}\n"
        "spec: {store: {type: local}}\n")
    result = run_process([STACKCTL, "validate", "m.yaml"], cwd=tmp_path)
    assert result.rc == 1
    assert "stackctl.yaml:1:8: error: moved: expected array, found number" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "No manifest was read, the project failed: 1 problem.")
