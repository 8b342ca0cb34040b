"""Package data (schemas, templates, migrations): folders beside the modules.

In a wheel the top-level ``schemas/`` and ``templates/`` folders are shipped
inside the package (see pyproject's force-include); in a source checkout they
sit beside the package, and we fall back to them.

The package's folder is found from this module's own file, which is what
``importlib.resources.files("stackctl")`` gives for a package on the file
system (the only kind this code could use: it needs real folders). Importing
``importlib.resources`` and its reader pulls in ``tempfile`` and ``zipfile``
(a few ms on every plan and validate), for nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).parent


@cache
def data_dir(name: str) -> Path:
    packaged = _PACKAGE / name
    if packaged.is_dir():
        return packaged
    source_tree = _PACKAGE.resolve().parent / name
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError(f"stackctl's data folder '{name}' is missing from this install")
