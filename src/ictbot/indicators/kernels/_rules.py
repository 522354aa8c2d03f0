"""The decorator of the kernels' per-rule helpers that never allocate: ``_jit.jit`` without numba's
reference counting (``_nrt=False``), inlined by LLVM (``forceinline``).

A helper is passed the kernel's state arrays (tables of 6–25 arrays as namedtuples). Compiled with
reference counting, every array argument costs an atomic increment and decrement per call, which made
the split kernels 2–10× slower than the single loops they replaced (inlining at numba IR level only
halved that: the inlined variables are reference-counted too). Without it a call is a plain LLVM call,
and ``forceinline`` makes LLVM inline it: the split kernels are then faster in total than the single
loops were (docs/benchmarks/indicator_kernels.md).
Such a helper must not allocate (no new arrays, no ``room`` / ``grow_*``): callers make room first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

# ``_nrt`` is an internal numba flag the type stubs do not list
_NO_REFCOUNT: dict[str, Any] = {"_nrt": False, "forceinline": True}


def rule(func: Callable[..., Any]) -> Any:
    """``njit(cache=True, nogil=True, _nrt=False, forceinline=True)``; without a writable cache location, uncached (as
    ``_jit.jit``)."""
    try:
        return njit(cache=True, nogil=True, **_NO_REFCOUNT)(func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(nogil=True, **_NO_REFCOUNT)(func)
