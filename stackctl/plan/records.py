"""Last-applied records: what stackctl wrote to a resource, kept to name drifted fields.

Beside the fingerprint of what it applied (``Bookkeeping.managed``), stackctl keeps a
record of the applied view (``Bookkeeping.applied``), so `plan` and `drift` can say
which fields changed outside stackctl and from what to what: a three-way comparison
of last-applied, manifests and live, as Argo CD makes with its last-applied annotation.

A record never holds a secret: a writeOnly field's value is kept only as an HMAC of
it under a random salt of the record (so equal secrets in two records do not look
alike, and no table of common passwords matches them), which tells "this secret
changed" without saying from or to what. A URL keeps only its redacted form.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from stackctl.flavors import SENSITIVE
from stackctl.plan import compare
from stackctl.plan.model import FieldChange
from stackctl.stores.urls import redact_url

CHANGED_MARK = "(sensitive, changed)"  # how a drifted secret's new value shows
SEALED_PREFIX = "(sensitive):"  # a sealed secret: an HMAC follows, never the value


def record_of(view: Mapping[str, Any] | None,
              hidden: AbstractSet[tuple[str, ...]] = frozenset(),
              salt: str | None = None) -> dict[str, Any] | None:
    """The redacted record of an applied ``view`` (None for none): ``{salt, view}``."""
    if view is None:
        return None
    # 122 random bits from uuid4 (not the secrets module): crash tests that fix the
    # uuid sequence then get the same records in every run
    salt = salt or uuid.uuid4().hex
    return {"salt": salt, "view": _sealed(view, hidden, salt)}


def drift_fields(record: Mapping[str, Any] | None, live: Mapping[str, Any] | None,
                 hidden: AbstractSet[tuple[str, ...]] = frozenset()
                 ) -> tuple[FieldChange, ...]:
    """Fields that differ between the last-applied ``record`` and the ``live`` view.

    ``old`` is the last-applied value, ``new`` the live one; secrets show as
    (sensitive) on both sides. Empty when there is no usable record (bookkeeping
    written before records existed): the caller then says only "changed".
    """
    if not _usable(record) or live is None:
        return ()
    assert record is not None
    salt = str(record["salt"])
    return tuple(
        # a secret differs only by its seal: say that it changed, never from or to what
        FieldChange(f.path, f.old, CHANGED_MARK) if f.old == f.new == SENSITIVE
        else f
        for f in compare.field_changes(record["view"], _sealed(live, hidden, salt), hidden))


def _usable(record: Any) -> bool:
    return (isinstance(record, Mapping) and isinstance(record.get("salt"), str)
            and isinstance(record.get("view"), Mapping))


def _sealed(view: Mapping[str, Any], hidden: AbstractSet[tuple[str, ...]],
            salt: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in view.items():
        if key == "config" and isinstance(value, Mapping):
            out[key] = {k: (_seal(v, salt) if (key, k) in hidden and v not in (None, "")
                            else v) for k, v in value.items()}
        elif key == "store_url" and isinstance(value, str):
            out[key] = redact_url(value)
        else:
            out[key] = value
    return out


def _seal(value: Any, salt: str) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    digest = hmac.new(salt.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]
    return SEALED_PREFIX + digest
