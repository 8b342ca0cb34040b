"""Find the manifest files that path arguments name: files as given, directories searched.

The result is sorted and free of duplicates so a plan never depends on the order
the file system happens to list entries in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stackctl.errors import Location, ManifestError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")
PROJECT_FILE = "stackctl.yaml"
# ZenML keeps repository state in .zen; hidden directories (.git, .venv...) are
# never manifests either.
SKIPPED_DIRECTORIES = frozenset({".zen"})


class ManifestPathError(ManifestError):
    """A path argument does not exist or cannot be searched."""

    rule = "manifest-path"


class SymlinkOutsideError(ManifestError):
    """A manifest path is a symlink that resolves outside the project."""

    rule = "symlink-outside"


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    # symlinks resolving outside the project: refused, never read
    outside: list[Path] = field(default_factory=list)


def find_manifest_files(paths: Sequence[Path]) -> list[Path]:
    """Manifest files under paths (symlinks followed wherever they lead)."""
    return discover(paths).files


def discover(paths: Sequence[Path], *, root: Path | None = None, follow_outside: bool = True,
             exclude: Sequence[str] = ()) -> Discovery:
    """Manifest files under paths: each file as given, each directory searched.

    Searching skips hidden directories and files (``.git``, ``.pre-commit-config.yaml``),
    ``.zen`` and the project file ``stackctl.yaml``. A file named explicitly is
    taken whatever its name. A file reached twice (through a symlink) is one file.
    Unless ``follow_outside``, a symlink resolving outside root and the directories
    searched is refused, as Argo CD refuses repository symlinks leaving the repository.
    ``exclude``: globs relative to root of files to leave out.
    """
    found: dict[str, Path] = {}  # real path -> path as the user spelled it
    result = Discovery()
    allowed = [os.path.realpath(p) for p in (root, *paths) if p is not None and p.is_dir()]
    excluded = _exclusion(exclude)
    base = str(root) if root is not None else ""

    def take(real: str, path: Path, linked: bool) -> None:
        if excluded is not None and excluded.match(os.path.relpath(path, base or None)
                                                   .replace(os.sep, "/")):
            return
        if linked and not follow_outside and not any(
                real == a or real.startswith(a.rstrip(os.sep) + os.sep) for a in allowed):
            result.outside.append(path)
            return
        found.setdefault(real, path)

    for path in paths:
        if path.is_file():
            real = os.path.realpath(path)
            take(real, path, real != os.path.abspath(path))
        elif path.is_dir():
            # one realpath per directory, not per file; strings until the end (fast sort)
            real_dirs: dict[str, str] = {}
            for directory, name in _search(path):
                if directory not in real_dirs:
                    real_dirs[directory] = os.path.realpath(directory)
                full = os.path.join(directory, name)
                if os.path.islink(full):
                    take(os.path.realpath(full), Path(full), True)
                else:
                    take(os.path.join(real_dirs[directory], name), Path(full),
                         real_dirs[directory] != os.path.abspath(directory))
        else:
            what = "does not exist" if not path.exists() else "is not a file or directory"
            raise ManifestPathError(
                f"manifest path {str(path)!r} {what}",
                location=Location(str(path)),
                hint="pass manifest files or directories that hold them",
            )
    result.files = sorted(found.values(), key=lambda p: p.parts)
    return result


def _exclusion(globs: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for the exclude globs: ``**`` any directories, ``*`` and ``?`` within one."""
    if not globs:
        return None
    parts = []
    for glob in globs:
        pattern = ""
        i = 0
        while i < len(glob):
            if glob.startswith("**/", i):
                pattern, i = pattern + "(?:.*/)?", i + 3
            elif glob.startswith("**", i):
                pattern, i = pattern + ".*", i + 2
            elif glob[i] == "*":
                pattern, i = pattern + "[^/]*", i + 1
            elif glob[i] == "?":
                pattern, i = pattern + "[^/]", i + 1
            else:
                pattern, i = pattern + re.escape(glob[i]), i + 1
        parts.append(pattern.rstrip("/"))
    return re.compile("(?:" + "|".join(parts) + ")(?:/.*)?$")


def _search(root: Path) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []

    def fail(error: OSError) -> None:
        raise ManifestPathError(
            f"cannot search {error.filename!r}: {error.strerror}",
            location=Location(str(error.filename)),
        ) from error

    # os.walk prunes in place and does not follow directory symlinks, so a
    # link cycle cannot make the search endless.
    for directory, subdirectories, names in os.walk(root, onerror=fail):
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".") and name not in SKIPPED_DIRECTORIES
        ]
        files.extend(
            (directory, name)
            for name in names
            if name.endswith(MANIFEST_SUFFIXES)
            and not name.startswith(".")
            and name != PROJECT_FILE
        )
    return files
