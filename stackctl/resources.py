"""Package data (schemas, templates, migrations) through importlib.resources.

In a wheel the top-level ``schemas/`` and ``templates/`` folders are shipped
inside the package (see pyproject's force-include); in a source checkout they
sit beside the package, and we fall back to them.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path


@cache
def data_dir(name: str) -> Path:
    packaged = Path(str(files("stackctl"))) / name
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parent.parent / name
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError(f"stackctl's data folder '{name}' is missing from this install")
