"""Compiled batch kernels of the indicator suite (numba, a core dependency).

``compute_columns`` returns the events of ``ictbot.indicators.suite.compute`` as columns,
``compute_events`` the same ``Event`` list (parity with the streaming fold is tested). Importing this
package never imports numba; calling the functions does. The kernels are compiled on first use in an
install and cached on disk (``_jit``): ``compiled()`` says whether that cache is there, ``warm_up()``
loads (or compiles) them ahead of the first real call, e.g. in a thread while input is being read.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ictbot.domain.timeframe import Timeframe
    from ictbot.indicators.events import Event
    from ictbot.indicators.kernels.batch import F64, I64, KernelColumns
    from ictbot.indicators.params import IndicatorParams


def available() -> bool:
    """True when numba is importable (a core dependency; a broken or stripped install may lack it)."""
    return importlib.util.find_spec("numba") is not None


def compiled() -> bool:
    """True when numba's on-disk cache holds the suite's entry point (``pipeline.suite_kernel``, which
    holds every kernel) compiled from the current sources (else the first call compiles it, 1–2 min).
    Asks the entry point's own cache index, so a read-only install whose cache lives in the user's cache
    directory (or ``NUMBA_CACHE_DIR``) counts too; an entry of changed sources does not."""
    try:
        from ictbot.indicators.kernels._jit import has_current_entry
        from ictbot.indicators.kernels.pipeline import suite_kernel

        return has_current_entry(suite_kernel)
    except Exception:  # private numba API: any surprise = unknown
        return False


def warm_up() -> None:
    """Load every kernel from the on-disk cache (compiling it if absent) with a tiny series, so that the
    first real call only computes: the suite's entry point and the id formatter of the export. Same
    argument types as a real call, so the same machine code."""
    import numpy as np

    count = 64
    t = np.arange(count, dtype=np.int64) * 300_000 + 1_704_067_200_000
    x = 100.0 + np.cumsum(np.sin(np.arange(count, dtype=np.float64)))
    columns = compute_columns(t, x, x + 1.5, x - 1.5, x + 0.5, "5m")
    from ictbot.indicators.export.ids import EventIds

    EventIds(columns).of(np.arange(len(columns), dtype=np.int64))  # the id formatter (kernels.idtext)


def compute_columns(t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
                    params: IndicatorParams | None = None) -> KernelColumns:
    """The events of ``suite.compute`` as columns in log order (see ``KernelColumns``)."""
    try:
        from ictbot.indicators.kernels.batch import compute_columns as run
    except ImportError as exc:
        if available():
            raise
        raise ImportError("the compiled indicator kernels need numba (a dependency of ictbot): "
                          "pip install numba") from exc
    return run(t, o, h, lo, c, timeframe, params)


def compute_events(t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
                   params: IndicatorParams | None = None) -> list[Event]:
    """``suite.compute(...).events``, computed by the kernels."""
    columns = compute_columns(t, o, h, lo, c, timeframe, params)
    from ictbot.indicators.kernels.convert import to_events

    return to_events(columns)


__all__ = ["available", "compiled", "compute_columns", "compute_events", "warm_up"]
