"""Reading and writing the ZenML-shaped YAML files of the live state.

Dumps match ZenML 0.10 (``yaml.dump``: block style, keys sorted). Reads
turn any parse problem into a ConfigFileError naming file and line, so a
hand-broken file is reported, never overwritten.
"""

from __future__ import annotations

import os
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
        raw, _ = _read(path)
    except FileNotFoundError:
        if missing_ok:  # decided by the open itself: no stat before it to race with
            return {}
        raise _missing(path) from None
    return parse_mapping(raw, path)


def read_with_stat(path: str | Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and the stat of the very file read (one open, no Path object)."""
    try:
        return _read(path)
    except FileNotFoundError:
        raise _missing(path) from None


def _missing(path: str | Path) -> ConfigFileError:
    return ConfigFileError(f"File '{path}' is missing.", location=Location(str(path)))


def _read(path: str | Path) -> tuple[bytes, os.stat_result]:
    """As ``read_with_stat``, but a missing file is FileNotFoundError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigFileError(f"Cannot read '{path}': {exc.strerror}.") from None
    try:
        st = os.fstat(fd)
        raw = os.read(fd, st.st_size + 1)
        if len(raw) > st.st_size:  # it grew since: read the rest
            chunks = [raw]
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            raw = b"".join(chunks)
    except OSError as exc:
        raise ConfigFileError(f"Cannot read '{path}': {exc.strerror}.") from None
    finally:
        os.close(fd)
    return raw, st


def parse_mapping(raw: bytes, path: str | Path) -> dict[str, Any]:
    """The mapping a file's bytes hold (empty: ``{}``); errors located in path.

    Plain text (nearly every file stackctl or ZenML wrote) takes the fast YAML
    path, which gives exactly what libyaml would or declines; libyaml reads the
    rest, and locates any error. ``STACKCTL_YAML_FAST=0`` turns the fast path off.
    """
    if os.environ.get("STACKCTL_YAML_FAST") != "0":
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            pass  # libyaml says where
        else:
            from stackctl.yamlfast import fast_mapping  # looked up per call: tests replace it

            fast = fast_mapping(text)
            if fast is not None:
                return fast
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
    except ValueError as exc:  # a value the loader cannot build: a date out of range, ...
        raise ConfigFileError(
            f"Cannot read a value in this file: {exc}.", location=Location(str(path)),
            hint="Fix or restore the file by hand; stackctl will not overwrite it.",
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
