"""The numba decorator used by every kernel (imported only when numba is installed).

numba's on-disk cache (``cache=True``) is keyed on the source file of each compiled function only: a
change in a helper module it calls (``buffers.py``) would leave stale machine code in place. So the
cache files of this package are dropped whenever any of its sources changed (digest stamp).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numba import njit


def _drop_stale_cache() -> None:
    here = Path(__file__).resolve().parent
    # compiled code depends on the kernel modules and on the constants of codes.py (frozen into it)
    sources = [p.read_bytes() for p in sorted(here.glob("*.py"))]
    digest = hashlib.sha256(b"".join(src for src in sources if b"@jit" in src or b"REF_SHIFT = " in src
                                     or b"njit(" in src)).hexdigest()[:16]
    cache = here / "__pycache__"
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


def jit(func: Callable[..., Any]) -> Any:
    """``njit(cache=True, nogil=True)``; without any writable cache location (read-only install, no
    writable user cache directory, no ``NUMBA_CACHE_DIR``) numba refuses ``cache=True`` at decoration
    time: the kernels are then compiled in every process instead of failing to import."""
    try:
        return njit(cache=True, nogil=True)(func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(nogil=True)(func)


_drop_stale_cache()
