"""The optional project file ``stackctl.yaml`` and the variables it feeds.

Variables come, later winning: project ``vars``, the chosen environment,
``--var-file`` files, then ``--var K=V``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.discover import PROJECT_FILE
from stackctl.compiler.load import Document, load_file
from stackctl.compiler.moved import Move, load_moves
from stackctl.defaults import DEFAULT
from stackctl.errors import Location, ManifestError


class ProjectFileError(ManifestError):
    """The project file breaks its schema; ``problems`` lists every break, located."""

    rule = "project-file"

    def __init__(self, problems: list[Diagnostic]) -> None:
        super().__init__(problems[0].message, location=problems[0].location)
        self.problems = problems


class UnknownEnvironmentError(ManifestError):
    """``-e/--env`` names an environment the project file does not declare."""

    rule = "unknown-environment"


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
    default_profile: str = DEFAULT
    variables: Mapping[str, Any] = field(default_factory=dict)
    file: Path | None = None
    # where the project file sets defaultProfile (for "profile not declared")
    default_profile_at: Location | None = None
    # declared environment names: validate checks each
    environments: tuple[str, ...] = ()
    # the project file's manifests: were used (every file found is then a manifest,
    # whatever it holds), and its exclude: globs, relative to root
    declared_manifests: bool = False
    exclude: tuple[str, ...] = ()
    max_deletes: int | None = None  # the cap on deletions per plan (plan.delete_cap)
    drift_mode: str = "remediate"  # driftMode: remediate | warn | refuse (plan.drift_mode)
    name: str | None = None  # ``name:``: the owner recorded for what this project applies
    moves: tuple[Move, ...] = ()  # ``moved:`` renames (compiler.moved)


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
    base = (cwd or Path.cwd()).resolve()
    given = [(base / p).resolve() for p in inputs.paths] or [base]
    file = _find_project_file(given)
    data: dict[str, Any] = {}
    default_at: Location | None = None
    moves: tuple[Move, ...] = ()
    if file is not None:
        docs = load_file(file)
        data = docs[0].data if docs else {}
        if docs:
            _check_project(docs[0])
            if "defaultProfile" in data:
                default_at = docs[0].locate(("defaultProfile",))
            moves, problems = load_moves(docs[0])
            if problems:
                raise ProjectFileError(sorted(problems, key=Diagnostic.sort_key))
    root = file.parent if file else (given[0] if given[0].is_dir() else given[0].parent)
    paths = given
    declared = file is not None and bool(data.get("manifests"))
    if not inputs.paths and declared:
        paths = [path for entry in data["manifests"] for path in _expand(root, entry)]
    variables: dict[str, Any] = dict(data.get("vars") or {})
    if inputs.env is not None:
        envs = data.get("environments") or {}
        if inputs.env not in envs:
            known = ", ".join(sorted(envs)) or "(none declared)"
            where = (docs[0].locate(("environments",)) if data.get("environments")
                     else Location(str(file))) if file else None
            raise UnknownEnvironmentError(f"Unknown environment '{inputs.env}'.", location=where,
                                          hint=f"Environments in the project file: {known}.")
        variables.update(envs[inputs.env] or {})
    for var_file in inputs.var_files:
        from stackctl.compiler.render import load_var_file  # only with --var-file

        variables.update(load_var_file((base / var_file).resolve()))
    for key, value in inputs.variables:
        variables[key] = value
    return Project(root=root, manifest_paths=tuple(paths),
                   default_profile=str(data.get("defaultProfile") or DEFAULT),
                   variables=variables, file=file, default_profile_at=default_at,
                   environments=tuple(sorted(data.get("environments") or {})),
                   declared_manifests=declared, exclude=tuple(data.get("exclude") or ()),
                   max_deletes=data.get("maxDeletes"),
                   drift_mode=str(data.get("driftMode") or "remediate"),
                   name=str(data["name"]) if data.get("name") else None, moves=moves)


_GLOB_CHARS = frozenset("*?[")


def _expand(root: Path, entry: str) -> list[Path]:
    """One ``manifests:`` entry: a file or directory path, or a glob (``envs/**/*.yaml``).

    A glob that matches nothing stays as written, so discovery reports the path as
    missing instead of silently validating nothing.
    """
    if not _GLOB_CHARS & set(entry):
        return [(root / entry).resolve()]
    return sorted(root.glob(entry)) or [(root / entry).resolve()]


def _check_project(doc: Document) -> None:
    import jsonschema

    from stackctl.compiler.compile import schema_diagnostic
    from stackctl.compiler.schemas import manifest_schema
    from stackctl.schema_errors import document_problem

    validator = jsonschema.Draft202012Validator(manifest_schema("project"))
    problems = [schema_diagnostic(doc, replace(document_problem(error, "the project file"),
                                               rule=ProjectFileError.rule))
                for error in validator.iter_errors(doc.data)]
    if problems:
        raise ProjectFileError(sorted(problems, key=Diagnostic.sort_key))
