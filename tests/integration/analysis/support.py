"""Real BTCUSDT 5m candles (January 2024, from ../shared) and specs for the analysis tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ictbot.analysis.runs import slice_market_data
from ictbot.backtest.data import MarketData, load_market_data
from ictbot.backtest.run import BacktestSpec
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"
CHEATERS = Path(__file__).parent / "user_strategies" / "cheaters.py"


@cache
def _january() -> MarketData:
    return load_market_data([MONTH], "BTCUSDT", Timeframe.M5)


def candles(first: int, stop: int) -> MarketData:
    """Candles ``first`` ≤ i < ``stop`` of January 2024 (skips the test when the data is absent)."""
    require_shared(MONTH)
    return slice_market_data(_january(), first, stop)


def spec(strategy: str) -> BacktestSpec:
    return BacktestSpec(data=(str(MONTH),), symbols=("BTCUSDT",), timeframe=Timeframe.M5, strategy=strategy)


def cheater(name: str) -> BacktestSpec:
    return spec(f"{CHEATERS}:{name}")
