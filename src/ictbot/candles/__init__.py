"""Closed-candle storage service, base → higher-timeframe aggregation, rolling windows, history."""

from ictbot.candles.aggregate import Aggregation, aggregate, aggregate_detailed
from ictbot.candles.service import CandleService
from ictbot.candles.streaming import DEFAULT_TARGETS, AggregatedCandle, StreamingAggregator
from ictbot.candles.windows import CandleWindows

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
