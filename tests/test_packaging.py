"""A plain (non-editable) wheel install into a fresh venv works on its own.

Proves schemas/ and templates/ ship in the wheel and are found through
importlib.resources, far from the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(ROOT)], check=True)
    (found,) = out.glob("stackctl-*.whl")
    return found


def test_wheel_carries_schemas_templates_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "stackctl/schemas/flavors/artifact_store/s3.json" in names
    assert "stackctl/schemas/manifests/component.json" in names
    assert "stackctl/templates/plan.md.j2" in names
    assert any(n.startswith("stackctl/stores/migrations/") for n in names)


def test_fresh_venv_install_runs(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "STACKCTL_CONFIG_PATH": str(tmp_path / "cfg"), "NO_COLOR": "1"}
    exe = str(venv / "bin" / "stackctl")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], cwd=work, env=env, capture_output=True, text=True,
                              check=False)

    flavors = run("artifact-store", "flavor", "list", "--format", "json")
    assert flavors.returncode == 0, flavors.stderr
    assert '"flavor": "s3"' in flavors.stdout
    shown = run("schema", "show", "Component")
    assert shown.returncode == 0
    assert '"Component"' in shown.stdout
    applied = run("apply", str(ROOT / "examples" / "quickstart"), "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    # 5 declared, and the new profile's default stack (4 objects)
    assert "Apply complete: 9 created, 1 updated, 0 deleted." in applied.stderr
    md = run("plan", str(ROOT / "examples" / "quickstart"), "--format", "markdown")
    assert md.returncode == 0
    assert "**Plan: 0 to create, 0 to update, 0 to delete.**" in md.stdout
