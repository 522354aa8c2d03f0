"""numba decorator of the resumable prototype, with the stale-cache guard of ``kernels/_jit.py``.

numba keys its on-disk cache on each compiled function's own file; this package also calls helpers
in ``kernels/buffers.py``, so its cache is dropped whenever those sources or its own change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from numba import njit

_HERE = Path(__file__).resolve().parent
_SOURCES = (*sorted(_HERE.glob("*.py")), _HERE.parent / "kernels" / "buffers.py", _HERE.parent / "kernels" / "codes.py")


def _drop_stale_cache() -> None:
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in _SOURCES)).hexdigest()[:16]
    cache = _HERE / "__pycache__"
    stamp = cache / "numba-sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for path in cache.glob("*.nb[ci]"):
            path.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # read-only install: numba falls back to its own cache locations
        pass


_drop_stale_cache()
jit = njit(cache=True, nogil=True)
