"""The numba decorator used by every kernel (imported only when numba is installed).

numba's on-disk cache (``cache=True``) is keyed on the source file of each compiled function only: a
change in a helper module it calls (``buffers.py``) would leave stale machine code in place. So the
cache files of this package are dropped whenever any of its sources changed (digest stamp).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from numba import njit

_HERE = Path(__file__).resolve().parent


def drop_stale_cache(folder: Path, sources: Sequence[Path]) -> None:
    """Drop ``folder``'s numba cache files when ``sources`` (its compiled modules and every helper or
    constant module their code depends on) changed since the stamp was written."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    cache = folder / "__pycache__"
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


def _kernel_sources() -> list[Path]:
    # compiled code depends on the kernel modules and on the constants of codes.py (frozen into it)
    return [path for path in sorted(_HERE.glob("*.py"))
            if any(mark in path.read_bytes() for mark in (b"@jit", b"REF_SHIFT = ", b"njit("))]


def jit(func: Callable[..., Any]) -> Any:
    """``njit(cache=True, nogil=True)``; without any writable cache location (read-only install, no
    writable user cache directory, no ``NUMBA_CACHE_DIR``) numba refuses ``cache=True`` at decoration
    time: the kernels are then compiled in every process instead of failing to import."""
    try:
        return njit(cache=True, nogil=True)(func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(nogil=True)(func)


drop_stale_cache(_HERE, _kernel_sources())
