"""Reading and writing the ZenML-shaped YAML files of the live state.

Dumps match ZenML 0.10 (``yaml.dump``: block style, keys sorted). Reads
turn any parse problem into a ConfigFileError naming file and line, so a
hand-broken file is reported, never overwritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stackctl.errors import ConfigFileError, Location
from stackctl.stores import yamlemit

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(data: Any, *, sort_keys: bool = True) -> bytes:
    """Block-style YAML; ``sort_keys=False`` keeps the mapping's own order.

    Plain shapes take the fast emitter (the same bytes); the rest, ``yaml.dump``.
    """
    text = yamlemit.emit(data, sort_keys=sort_keys)
    if text is None:
        text = yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=sort_keys)
    return text.encode()


def read_mapping(path: Path, *, missing_ok: bool = False) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping (an empty file is ``{}``)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise ConfigFileError(
            f"File '{path}' is missing.", location=Location(str(path))
        ) from None
    except OSError as exc:
        raise ConfigFileError(f"Cannot read '{path}': {exc.strerror}.") from None
    try:
        data = yaml.load(raw, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise ConfigFileError(
            f"Cannot parse this file: {exc.problem or exc}.",
            location=Location(str(path), line, col),
            hint="Fix or restore the file by hand; stackctl will not overwrite it.",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(
            f"Cannot parse this file: {exc}.", location=Location(str(path))
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError(
            f"Expected a mapping at the top of this file, found {type(data).__name__}.",
            location=Location(str(path), 1, 1),
            hint="Fix or restore the file by hand; stackctl will not overwrite it.",
        )
    return data


def expect(value: Any, kind: type, path: Path, what: str) -> Any:
    """Check one field's type while reading a store file."""
    if value is not None and not isinstance(value, kind):
        raise ConfigFileError(
            f"'{what}' should be a {kind.__name__}, found {type(value).__name__}.",
            location=Location(str(path)),
            hint="Fix or restore the file by hand; stackctl will not overwrite it.",
        )
    return value
