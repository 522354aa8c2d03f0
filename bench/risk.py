"""Cost of the strategy and risk stages relative to the indicator engine, on real BTCUSDT 5m data.

Baseline (measured in the same run): ``MultiTimeframeEngine.on_candle`` per base candle
(5m with 15m/1h/4h resampled). Reported: the built-in strategies' ``StrategyRunner.evaluate`` per
candle and the pure ``risk.validate`` per signal, each as a ratio of that baseline.

Run: ``.venv/bin/python bench/risk.py``
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import DATA  # noqa: E402
from tests.unit.risk.support import open_position, real_instrument  # noqa: E402

from ictbot.adapters.files.candle_files import read_candle_file  # noqa: E402
from ictbot.domain.signal import Direction, EntryType, Signal  # noqa: E402
from ictbot.domain.timeframe import Timeframe  # noqa: E402
from ictbot.indicators.mtf import MultiTimeframeEngine  # noqa: E402
from ictbot.risk import MarketQuote, RiskLimits, RiskState, validate  # noqa: E402
from ictbot.strategies import (  # noqa: E402
    StrategyContext,
    StrategyRegistry,
    StrategyRunner,
    default_strategies_config,
)

DAYS = 10
VALIDATIONS = 5_000


def main() -> None:
    frame = read_candle_file(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv").slice(0, DAYS * 288)
    candles = frame.to_candles("BTCUSDT", Timeframe.M5)
    engine = MultiTimeframeEngine("5m", ["15m", "1h", "4h"], resample_higher=True)
    snapshots = []
    start = time.perf_counter()
    for candle in candles:
        snapshots.append(engine.on_candle(candle))
    engine_s = time.perf_counter() - start
    per_candle_engine = engine_s / len(candles)

    registry = StrategyRegistry()
    registry.configure(default_strategies_config())
    runner = StrategyRunner(registry)
    contexts = [StrategyContext(candle, snap) for candle, snap in zip(candles, snapshots, strict=True) if snap]
    start = time.perf_counter()
    signals = sum(len(runner.evaluate(context)) for context in contexts)
    per_candle_strategies = (time.perf_counter() - start) / len(contexts)

    instrument = real_instrument()
    limits = RiskLimits(allow_short_on_spot=True)
    positions = tuple(open_position("ETHUSDT", qty="0.1", entry="2000", pid=f"p{i}") for i in range(2))
    state = RiskState(now_ms=1_700_000_000_000, equity=Decimal(10_000), open_positions=positions)
    signal = Signal("strategy_a", "BTCUSDT", Direction.LONG, EntryType.MARKET, Decimal("59400.37"),
                    (Decimal("61200.55"), Decimal("61800")), 1_700_000_000_000, reference_price=Decimal("60000"))
    quote = MarketQuote(Decimal("60010.01"), 1_700_000_000_000)
    start = time.perf_counter()
    for _ in range(VALIDATIONS):
        validate(signal, state, limits, instrument, quote)
    per_validation = (time.perf_counter() - start) / VALIDATIONS

    print(f"candles: {len(candles)} ({DAYS} days BTCUSDT 5m), signals from the built-ins: {signals}")
    print(f"indicator engine (baseline): {per_candle_engine * 1e6:9.1f} µs / candle   ratio 1.00")
    print(f"strategies A+B evaluate    : {per_candle_strategies * 1e6:9.1f} µs / candle   "
          f"ratio {per_candle_strategies / per_candle_engine:.3f}")
    print(f"risk validate              : {per_validation * 1e6:9.1f} µs / signal   "
          f"ratio {per_validation / per_candle_engine:.3f}")


if __name__ == "__main__":
    main()
