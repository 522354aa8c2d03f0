"""Built-in strategies on real BTCUSDT 5m candles through the real indicator engine.

Causality: every signal of the full replay is reproduced by a fresh replay that stops at the
signal's own candle (nothing after it exists), and that shorter replay emits exactly the signals
of the full one up to that time. The window (2024-01-18 → 2024-01-25) gives each strategy four
signals; the first days are warm-up (the 4h trend needs several days of 4h candles).
"""

from __future__ import annotations

from functools import cache

import pytest

from ictbot.adapters.files.candle_files import read_candle_file
from ictbot.domain.candle import Candle
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.strategies import StrategyContext, StrategyRegistry, StrategyRunner, default_strategies_config
from tests.conftest import DATA

pytestmark = pytest.mark.slow

FILE = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"
FIRST_DAY, LAST_DAY = 17, 25  # 2024-01-18 00:00 → 2024-01-25 23:55 UTC (8 days)
MIN_SIGNALS = 2


@cache
def candles() -> tuple[Candle, ...]:
    frame = read_candle_file(FILE).slice(FIRST_DAY * 288, LAST_DAY * 288)
    return tuple(frame.to_candles("BTCUSDT", Timeframe.M5))


def replay(bars: tuple[Candle, ...]) -> list[tuple[int, Signal]]:
    engine = MultiTimeframeEngine("5m", ["15m", "1h", "4h"], resample_higher=True)
    registry = StrategyRegistry()
    registry.configure(default_strategies_config())
    runner = StrategyRunner(registry)
    found: list[tuple[int, Signal]] = []
    for index, bar in enumerate(bars):
        snapshot = engine.on_candle(bar)
        assert snapshot is not None
        found.extend((index, signal) for signal in runner.evaluate(StrategyContext(bar, snapshot)))
    assert all(status.total_errors == 0 for status in registry.status())
    return found


@cache
def full_replay() -> tuple[tuple[int, Signal], ...]:
    return tuple(replay(candles()))


@pytest.mark.skipif(not FILE.exists(), reason="shared BTCUSDT data not available")
@pytest.mark.parametrize("strategy_id", ["strategy_a", "strategy_b"])
def test_signals_on_real_data_use_only_data_known_at_their_time(strategy_id: str) -> None:
    bars = candles()
    mine = [(index, signal) for index, signal in full_replay() if signal.strategy_id == strategy_id]
    assert len(mine) >= MIN_SIGNALS, f"{strategy_id} fired {len(mine)} times on 8 days of real data"
    for index, signal in mine:  # every signal: cut the data right after it and replay from scratch
        assert signal.time == bars[index].close_time
        assert signal.reference_price == bars[index].close
        truncated = replay(bars[: index + 1])
        assert (index, signal) in truncated
        assert truncated == [(i, s) for i, s in full_replay() if i <= index]
