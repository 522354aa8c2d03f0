"""ICT indicator engine (ict-spec): batch = fold of the streaming step, multi-timeframe snapshots.

The names below are imported on first use (PEP 562): ``ictbot indicators`` with the compiled kernels
needs the parameters and the kernels, not the streaming engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ictbot.lazy_names import lazy_names

if TYPE_CHECKING:
    from ictbot.indicators.events import Event
    from ictbot.indicators.params import IndicatorParams
    from ictbot.indicators.stream import TimeframeEngine
    from ictbot.indicators.suite import SuiteResult, compute

_HOMES = {"Event": "events", "IndicatorParams": "params", "TimeframeEngine": "stream", "SuiteResult": "suite",
          "compute": "suite"}


__getattr__ = lazy_names(__name__, _HOMES)


__all__ = ["Event", "IndicatorParams", "SuiteResult", "TimeframeEngine", "compute"]
