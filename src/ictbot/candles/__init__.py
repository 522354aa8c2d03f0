"""Closed-candle storage service, base → higher-timeframe aggregation, rolling windows, history.

The names below are imported on first use (PEP 562): a caller of one submodule, e.g. the data-quality
report of ``ictbot indicators`` (``candles.quality``), does not pay for the service and the bus.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# eager: the function ``aggregate`` has its submodule's name, and importing ``ictbot.candles.aggregate``
# anywhere binds the package attribute to the module, which a lazy name would then never replace
from ictbot.candles.aggregate import Aggregation, aggregate, aggregate_detailed

if TYPE_CHECKING:
    from ictbot.candles.service import CandleService
    from ictbot.candles.streaming import DEFAULT_TARGETS, AggregatedCandle, StreamingAggregator
    from ictbot.candles.windows import CandleWindows

_HOMES = {
    "CandleService": "service",
    "DEFAULT_TARGETS": "streaming", "AggregatedCandle": "streaming", "StreamingAggregator": "streaming",
    "CandleWindows": "windows",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_TARGETS",
    "AggregatedCandle",
    "Aggregation",
    "CandleService",
    "CandleWindows",
    "StreamingAggregator",
    "aggregate",
    "aggregate_detailed",
]
