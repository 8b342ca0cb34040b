"""Fast schema checks: compiled validators for the common case, jsonschema for errors.

fastjsonschema compiles a schema to Python code and answers "valid?" about 20 times
faster than jsonschema, whose error objects (paths, validator names) we need
for located messages. So: the compiled check first; only an invalid instance
goes through jsonschema. Tests check both agree on every corpus case.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

_compiled: dict[str, Callable[[Any], Any]] = {}


def _compile(key: str, schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    found = _compiled.get(key)
    if found is None:
        import fastjsonschema

        # our schemas use only keywords whose meaning draft-07 and 2020-12 share
        draft07 = {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}
        # use_default=False: a check never writes a schema's defaults into the document
        found = fastjsonschema.compile(draft07, use_default=False)
        _compiled[key] = found
    return found


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
