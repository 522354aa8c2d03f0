"""The numba decorator used by every kernel (imported only when numba is installed).

numba's on-disk cache (``cache=True``) checks only the source file of the compiled function itself: a
change in a kernel it calls from another module (``buffers.py``, or every section kernel for the one
entry point ``pipeline.suite_kernel``, whose cached machine code holds theirs) would leave stale
machine code in place. So every cache entry made by ``jit`` is keyed on a digest of all the compiled
sources of the decorated function's folder as well (``SourceKeyedCache``), wherever numba keeps the
cache (beside the sources, the user's cache directory, ``NUMBA_CACHE_DIR``): after an edit the old
entries no longer match and the code is compiled afresh. The cache files beside this package's sources
are also dropped when the digest changes, so that stale entries do not pile up.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from numba import njit
from numba.core import caching
from numba.core.runtime import nrt

_HERE = Path(__file__).resolve().parent
# files whose content is frozen into compiled code: kernels and the constants of codes.py
_COMPILED_MARKS = (b"@jit", b"@rule", b"REF_SHIFT = ", b"njit(")


def drop_stale_cache(folder: Path, sources: Sequence[Path]) -> None:
    """Drop ``folder``'s numba cache files when ``sources`` (its compiled modules and every helper or
    constant module their code depends on) changed since the stamp was written."""
    digest = _digest(sources)
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


def _digest(sources: Sequence[Path]) -> str:
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]


def _kernel_sources(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.glob("*.py")) if any(mark in path.read_bytes() for mark in _COMPILED_MARKS)]


@functools.lru_cache(maxsize=8)
def sources_digest(folder: Path) -> str:
    """Digest of the compiled sources in ``folder`` and in this package (every compiled function may call
    the helpers of ``buffers.py`` and the constants of ``codes.py``), read once per process."""
    folders = sorted({folder, _HERE})
    return _digest([path for each in folders for path in _kernel_sources(each)])


_FunctionCache: Any = caching.FunctionCache  # numba's private cache API, untyped here


class SourceKeyedCache(_FunctionCache):  # type: ignore[misc]
    """numba's function cache with the digest of the compiled sources of the function's folder and of
    this package in every index key (numba's own key: signature, CPU, the function's bytecode and
    closure)."""

    def __init__(self, py_func: Callable[..., Any]) -> None:
        super().__init__(py_func)
        self.sources_digest = sources_digest(Path(inspect.getfile(py_func)).resolve().parent)

    def _index_key(self, sig: Any, codegen: Any) -> tuple[Any, ...]:
        return (*super()._index_key(sig, codegen), self.sources_digest)

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        """numba refreshes the whole target context before looking in its cache: it imports and registers
        every typing and lowering registry (≈ 0.25 s CPU), which only a compile needs. Loading machine code
        needs the runtime (NRT) symbols; a miss (None) goes on to compile, which refreshes by itself. Any
        surprise here (private numba API) falls back to numba's own way."""
        try:
            nrt.rtsys.initialize(target_context)
            return self._load_overload(sig, target_context)
        except Exception:
            return super().load_overload(sig, target_context)


def has_current_entry(dispatcher: Any) -> bool:
    """True when ``dispatcher``'s cache index holds an entry compiled from the current sources (private
    numba API: the index loader returns {} for a missing index or one of a changed source file)."""
    cache = getattr(dispatcher, "_cache", None)
    if not isinstance(cache, SourceKeyedCache):
        return False
    index: Any = cache._cache_file._load_index()
    return any(key[-1] == cache.sources_digest for key in index)


def jit(func: Callable[..., Any]) -> Any:
    """``njit(cache=True, nogil=True)`` with the cache keyed on the sources' digest; without any writable
    cache location (read-only install, no writable user cache directory, no ``NUMBA_CACHE_DIR``) numba
    refuses ``cache=True`` at decoration time: the kernels are then compiled in every process instead of
    failing to import."""
    dispatcher: Any = njit(nogil=True)(func)
    if hasattr(dispatcher, "py_func"):  # not the plain function of NUMBA_DISABLE_JIT
        # what cache=True does (``Dispatcher.enable_caching``), with this key
        with contextlib.suppress(RuntimeError):  # "cannot cache function ...: no locator available"
            dispatcher._cache = SourceKeyedCache(func)
    return dispatcher


drop_stale_cache(_HERE, _kernel_sources(_HERE))
