"""Stable fingerprints of JSON-able values.

Used by the stores (what stackctl last applied), by plans (what was read and
what is desired) and by saved-plan inputs; it lives apart from all of them so
none imports another just for a hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# json.dumps with these options builds a new encoder on every call; one made once
# encodes the same text (a plan fingerprints every resource it reads: 10,000 and more)
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode
_SHA256 = hashlib.sha256


def fingerprint(value: Any) -> str:
    """A stable hash of a JSON-able value (drift detection, saved plans)."""
    return _SHA256(_ENCODE(value).encode()).hexdigest()[:32]
