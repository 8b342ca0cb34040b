"""The optional project file ``stackctl.yaml`` and the variables it feeds.

Variables come, later winning: project ``vars``, the chosen environment,
``--var-file`` files, then ``--var K=V``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackctl.errors import Location, ManifestError

PROJECT_FILE = "stackctl.yaml"
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class Inputs:
    """Everything a compile reads besides the manifests: recorded in saved plans."""

    paths: tuple[str, ...]
    env: str | None = None
    var_files: tuple[str, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Project:
    root: Path
    manifest_paths: tuple[Path, ...]
    default_profile: str = DEFAULT_PROFILE
    variables: Mapping[str, Any] = field(default_factory=dict)
    file: Path | None = None


def _find_project_file(paths: Sequence[Path]) -> Path | None:
    for path in paths:
        start = path if path.is_dir() else path.parent
        for candidate in (start, *start.parents):
            if (candidate / PROJECT_FILE).is_file():
                return candidate / PROJECT_FILE
            if (candidate / ".git").exists():
                break
    return None


def load_project(inputs: Inputs, cwd: Path | None = None) -> Project:
    from stackctl.compiler.load import load_file
    from stackctl.compiler.render import load_var_file

    base = (cwd or Path.cwd()).resolve()
    given = [(base / p).resolve() for p in inputs.paths] or [base]
    file = _find_project_file(given)
    data: dict[str, Any] = {}
    if file is not None:
        docs = load_file(file)
        data = docs[0].data if docs else {}
        _check_project(data, file)
    root = file.parent if file else (given[0] if given[0].is_dir() else given[0].parent)
    paths = given
    if not inputs.paths and file is not None and data.get("manifests"):
        paths = [(root / p).resolve() for p in data["manifests"]]
    variables: dict[str, Any] = dict(data.get("vars") or {})
    if inputs.env is not None:
        envs = data.get("environments") or {}
        if inputs.env not in envs:
            known = ", ".join(sorted(envs)) or "(none declared)"
            raise ManifestError(f"Unknown environment '{inputs.env}'.",
                                location=Location(str(file)) if file else None,
                                hint=f"Environments in the project file: {known}.")
        variables.update(envs[inputs.env] or {})
    for var_file in inputs.var_files:
        variables.update(load_var_file((base / var_file).resolve()))
    for key, value in inputs.variables:
        variables[key] = value
    return Project(root=root, manifest_paths=tuple(paths),
                   default_profile=str(data.get("defaultProfile") or DEFAULT_PROFILE),
                   variables=variables, file=file)


def _check_project(data: dict[str, Any], file: Path) -> None:
    import jsonschema

    from stackctl.compiler.schemas import manifest_schema

    validator = jsonschema.Draft202012Validator(manifest_schema("project"))
    for error in validator.iter_errors(data):
        where = "/".join(map(str, error.absolute_path)) or "(top)"
        raise ManifestError(f"Invalid project file at '{where}': {error.message}",
                            location=Location(str(file)))
