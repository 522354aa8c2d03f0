"""Closed-candle storage service, base → higher-timeframe aggregation, rolling windows, history.

The names below are imported on first use (PEP 562): a caller of one submodule, e.g. the data-quality
report of ``ictbot indicators`` (``candles.quality``), does not pay for the service and the bus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# eager: the function ``aggregate`` has its submodule's name (a lazy name may not: ictbot.lazy_names)
from ictbot.candles.aggregate import Aggregation, aggregate, aggregate_detailed
from ictbot.lazy_names import lazy_names

if TYPE_CHECKING:
    from ictbot.candles.service import CandleService
    from ictbot.candles.streaming import DEFAULT_TARGETS, AggregatedCandle, StreamingAggregator
    from ictbot.candles.windows import CandleWindows

_HOMES = {
    "CandleService": "service",
    "DEFAULT_TARGETS": "streaming", "AggregatedCandle": "streaming", "StreamingAggregator": "streaming",
    "CandleWindows": "windows",
}


__getattr__ = lazy_names(__name__, _HOMES)


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
