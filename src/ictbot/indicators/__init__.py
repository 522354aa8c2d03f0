"""ICT indicator engine (ict-spec): batch = fold of the streaming step, multi-timeframe snapshots.

The names below are imported on first use (PEP 562): ``ictbot indicators`` with the compiled kernels
needs the parameters and the kernels, not the streaming engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ictbot.indicators.events import Event
    from ictbot.indicators.params import IndicatorParams
    from ictbot.indicators.stream import TimeframeEngine
    from ictbot.indicators.suite import SuiteResult, compute

_HOMES = {"Event": "events", "IndicatorParams": "params", "TimeframeEngine": "stream", "SuiteResult": "suite",
          "compute": "suite"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = ["Event", "IndicatorParams", "SuiteResult", "TimeframeEngine", "compute"]
