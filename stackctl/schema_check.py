"""Fast schema checks: compiled validators for the common case, jsonschema for errors.

fastjsonschema compiles a schema to Python code and answers "valid?" about 20 times
faster than jsonschema, whose error objects (paths, validator names) we need
for located messages. So: the compiled check first; only an invalid instance
goes through jsonschema. Tests check both agree on every corpus case.

Generating and compiling a validator costs a few ms per schema, on every run (a
tenth of a small plan), so the compiled code is kept in the cache directory
(``validators/``), marshalled as ``.pyc`` files are, under a digest of the
schema, fastjsonschema's version and the bytecode's. It is executed only from a
file and directory this user owns that no one else can write to; any problem
with it means compiling afresh (so does an entry removed under us:
``stackctl.cache_prune`` removes those unused for a month after a write).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType
from typing import Any

_compiled: dict[str, Callable[[Any], Any]] = {}


def _compile(key: str, schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    found = _compiled.get(key)
    if found is None:
        # our schemas use only keywords whose meaning draft-07 and 2020-12 share
        found = _validator({**schema, "$schema": "http://json-schema.org/draft-07/schema#"})
        _compiled[key] = found
    return found


def _validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    import hashlib
    import marshal
    from importlib.util import MAGIC_NUMBER

    import fastjsonschema

    from stackctl.cache_dir import VALIDATORS, cache_dir

    digest = hashlib.sha256(b"%s\0%s\0%s" % (
        fastjsonschema.VERSION.encode(), MAGIC_NUMBER,
        json.dumps(schema, sort_keys=True).encode())).hexdigest()[:32]
    path = cache_dir() / VALIDATORS / f"{digest}.bin"
    cached = _read_private(path)
    try:
        name, code = marshal.loads(cached) if cached else (None, None)  # noqa: S302 - ours
    except (ValueError, EOFError, TypeError):
        name = code = None
    if not isinstance(name, str) or not isinstance(code, CodeType):
        # use_default=False: a check never writes a schema's defaults into the document
        source = fastjsonschema.compile_to_code(schema, use_default=False)
        root = _ROOT.search(source)
        if root is None:  # not the code we know: not cached
            found: Callable[[Any], Any] = fastjsonschema.compile(schema, use_default=False)
            return found
        name, code = root.group(1), compile(source, f"<validator {digest}>", "exec")
        _write_private(path, marshal.dumps((name, code)))
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - code generated from our schema, or our own cache
    validate = namespace.get(name)
    if not callable(validate):  # a damaged cache entry
        validate = fastjsonschema.compile(schema, use_default=False)
    return validate


# compile_to_code defines the root schema's function first, then those of its $refs
_ROOT = re.compile(r"^def (validate\w*)\(", re.MULTILINE)


def _read_private(path: Path) -> bytes | None:
    """The file's bytes if it and its directory belong to this user and no one else
    may write to them (else None: nothing from there is executed)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        mine = os.fstat(fd)
        for st in (mine, os.stat(path.parent)):
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read()
        from stackctl.cache_prune import mark_used

        mark_used(fd, mine)
        return data
    except OSError:
        return None
    finally:
        os.close(fd)


def _write_private(path: Path, data: bytes) -> None:
    """Written atomically, mode 0600 in a 0700 directory; a failure is no error."""
    from stackctl.stores.files import atomic_write

    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, data, private=True, durable=False)
        from stackctl.cache_prune import after_write

        after_write(path.parent.parent)


def is_valid(key: str, schema: Mapping[str, Any], instance: Any) -> bool:
    """``key`` names the schema (its compiled form is cached under it)."""
    import fastjsonschema

    try:
        _compile(key, schema)(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def key_of(schema: Mapping[str, Any]) -> str:
    """A cache key for a schema without a stable name (custom flavors)."""
    import hashlib

    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
