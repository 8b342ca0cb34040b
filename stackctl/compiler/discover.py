"""Find the manifest files that path arguments name: files as given, directories searched.

The result is sorted and free of duplicates so a plan never depends on the order
the file system happens to list entries in.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
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


def find_manifest_files(paths: Sequence[Path]) -> list[Path]:
    """Manifest files under paths: each file as given, each directory searched.

    Searching skips hidden directories and files (``.git``, ``.pre-commit-config.yaml``),
    ``.zen`` and the project file ``stackctl.yaml``. A file named explicitly is
    taken whatever its name.
    """
    found: dict[str, Path] = {}  # real path -> path as the user spelled it
    for path in paths:
        if path.is_file():
            found.setdefault(os.path.realpath(path), path)
        elif path.is_dir():
            # one realpath per directory, not per file; strings until the end (fast sort)
            real_dirs: dict[str, str] = {}
            for directory, name in _search(path):
                if directory not in real_dirs:
                    real_dirs[directory] = os.path.realpath(directory)
                found.setdefault(os.path.join(real_dirs[directory], name),
                                 Path(directory, name))
        else:
            what = "does not exist" if not path.exists() else "is not a file or directory"
            raise ManifestPathError(
                f"manifest path {str(path)!r} {what}",
                location=Location(str(path)),
                hint="pass manifest files or directories that hold them",
            )
    return sorted(found.values(), key=lambda p: p.parts)


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
