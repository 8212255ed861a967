"""Content hashes. Each carries a version prefix so that a change of format is visible in the value."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def digest(prefix: str, *parts: str, length: int = 16) -> str:
    """``prefix`` + the first ``length`` hex digits of SHA-256 over ``parts``, each length-delimited."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return f"{prefix}{h.hexdigest()[:length]}"


# One encoder, made once: json.dumps with options makes a new one on every call, and every cache key needs one.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: equal values give equal text."""
    return _CANONICAL.encode(value)
