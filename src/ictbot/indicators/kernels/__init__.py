"""Compiled batch kernels of the indicator suite (optional: needs the ``fast`` extra, numba).

``compute_columns`` returns the events of ``ictbot.indicators.suite.compute`` as columns,
``compute_events`` the same ``Event`` list (parity with the streaming fold is tested). Importing this
package never needs numba; calling the functions does.
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
    """True when numba is installed (``pip install ictbot[fast]``)."""
    return importlib.util.find_spec("numba") is not None


def compiled() -> bool:
    """True when numba's on-disk cache holds compiled kernels (else the first call compiles, ~1 min)."""
    from pathlib import Path

    return any((Path(__file__).resolve().parent / "__pycache__").glob("*.nbi"))


def compute_columns(t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
                    params: IndicatorParams | None = None) -> KernelColumns:
    """The events of ``suite.compute`` as columns in log order (see ``KernelColumns``)."""
    try:
        from ictbot.indicators.kernels.batch import compute_columns as run
    except ImportError as exc:
        if available():
            raise
        raise ImportError("the compiled indicator kernels need numba: pip install 'ictbot[fast]'") from exc
    return run(t, o, h, lo, c, timeframe, params)


def compute_events(t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
                   params: IndicatorParams | None = None) -> list[Event]:
    """``suite.compute(...).events``, computed by the kernels."""
    columns = compute_columns(t, o, h, lo, c, timeframe, params)
    from ictbot.indicators.kernels.convert import to_events

    return to_events(columns)


__all__ = ["available", "compiled", "compute_columns", "compute_events"]
