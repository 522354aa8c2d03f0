"""numba decorator of the resumable prototype: the kernels' ``jit`` with the same stale-cache guard.

numba keys its on-disk cache on each compiled function's own file; this package also calls helpers
in ``kernels/buffers.py`` and constants of ``kernels/codes.py``, so its cache is dropped whenever those
sources or its own change.
"""

from __future__ import annotations

from pathlib import Path

from ictbot.indicators.kernels._jit import drop_stale_cache, jit

_HERE = Path(__file__).resolve().parent
_KERNELS = _HERE.parent / "kernels"

drop_stale_cache(_HERE, [*sorted(_HERE.glob("*.py")), _KERNELS / "buffers.py", _KERNELS / "codes.py"])

__all__ = ["jit"]
