"""Stable fingerprints of JSON-able values.

Used by the stores (what stackctl last applied), by plans (what was read and
what is desired) and by saved-plan inputs; it lives apart from all of them so
none imports another just for a hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(value: Any) -> str:
    """A stable hash of a JSON-able value (drift detection, saved plans)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
