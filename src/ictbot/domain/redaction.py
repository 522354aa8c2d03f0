"""Secret redaction: what leaves the process (API answers, config views, logs) never carries a secret."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SECRET_KEY = re.compile(r"(secret|token|password|passwd|passphrase|api[_-]?key|private[_-]?key|dsn)", re.I)
REDACTED = "***"


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact(value: Any) -> Any:
    """A copy of ``value`` with every mapping entry whose key looks secret replaced by ``***``."""
    if isinstance(value, Mapping):
        return {str(k): (REDACTED if is_secret_key(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
