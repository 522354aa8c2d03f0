"""Parity check: the same candles through the live *bus* pipeline and through the backtest loop.

The bus side is the production wiring of the data and decision stages: ``CandleService`` (stores,
aggregates 5m → 15m/1h/4h with the streaming aggregator and publishes ``CANDLE_STORED``),
``IndicatorService`` (``MultiTimeframeEngine`` → ``INDICATORS_UPDATED``) and ``StrategyService``
(``StrategyRunner`` → ``SIGNAL_GENERATED``), each on its own bus queue. Candles are fed one at a
time and the bus is drained after each, as a live feed would deliver them.

What must agree: every signal the backtest saw while the strategy was **flat** (no position, no
resting entry) — same candle, same signal id (the id hashes strategy, symbol, side, time, stop,
targets and entry). While the backtest holds a position the strategies see it in their context and
may stay silent, whereas the bus replay has no execution behind it and stays flat; those candles
are reported but not compared. Orders are compared by ``backtest.live_parity`` (the whole live
application trading on the exchange simulator).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from ictbot.backtest.data import MarketData
from ictbot.backtest.ict import higher_timeframes
from ictbot.backtest.run import BacktestSpec, build_strategy, run_backtest
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.candles.service import CandleService
from ictbot.domain.candle import Candle
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.service import IndicatorService
from ictbot.strategies.registry import StrategyRegistry
from ictbot.strategies.runner import StrategyRunner
from ictbot.strategies.service import StrategyService


class MemoryCandleStore:
    """``CandleStore`` in memory (the parity run needs no database)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, Timeframe], dict[int, Candle]] = {}

    async def upsert(self, candles: Sequence[Candle]) -> int:
        for candle in candles:
            self._rows.setdefault((candle.symbol, candle.timeframe), {})[candle.open_time] = candle
        return len(candles)

    async def load(self, symbol: str, timeframe: Timeframe, start_ms: int | None = None,
                   end_ms: int | None = None, limit: int | None = None) -> list[Candle]:
        rows = sorted(self._rows.get((symbol, timeframe), {}).items())
        picked = [c for t, c in rows if (start_ms is None or t >= start_ms) and (end_ms is None or t < end_ms)]
        return picked[-limit:] if limit else picked

    async def latest_open_time(self, symbol: str, timeframe: Timeframe) -> int | None:
        rows = self._rows.get((symbol, timeframe))
        return max(rows) if rows else None


@dataclass
class ParityReport:
    candles: int
    compared_candles: int
    bus_signals: list[tuple[int, str]]
    backtest_signals: list[tuple[int, str]]
    missing_on_bus: list[tuple[int, str]] = field(default_factory=list)  # backtest had it (while flat)
    extra_on_bus: list[tuple[int, str]] = field(default_factory=list)  # bus had it on a flat candle

    @property
    def ok(self) -> bool:
        return not self.missing_on_bus and not self.extra_on_bus

    def describe(self) -> str:
        verdict = "PARITY OK" if self.ok else "PARITY BROKEN"
        return (f"{verdict}: {self.candles} candles replayed, {self.compared_candles} compared (strategy flat); "
                f"signals bus={len(self.bus_signals)} backtest={len(self.backtest_signals)}; "
                f"missing on bus={self.missing_on_bus[:5]} extra on bus={self.extra_on_bus[:5]}")


async def bus_signals(data: MarketData, spec: BacktestSpec) -> list[Signal]:
    """Replay ``data`` through CandleService → IndicatorService → StrategyService on a live bus."""
    strategy = build_strategy(spec)
    higher = higher_timeframes(strategy, data.timeframe)
    bus = EventBus()
    registry = StrategyRegistry(include_builtins=False)
    registry.add(strategy)
    captured: list[Signal] = []

    async def on_signal(envelope: Envelope) -> None:
        captured.append(envelope.payload.signal)

    bus.subscribe(Topic.SIGNAL_GENERATED, on_signal, name="parity.signals")
    candles = CandleService(bus, MemoryCandleStore(), base=data.timeframe, targets=higher)
    indicators = IndicatorService(bus, MultiTimeframeEngine(data.timeframe, higher))
    strategies = StrategyService(bus, StrategyRunner(registry))
    indicators.start()
    strategies.attach()
    await candles.start()
    await bus.start()
    try:
        for candle in data.frame.to_candles(data.symbol, data.timeframe):
            await candles.handle_closed(candle)
            await bus.wait_idle(timeout=30.0)
    finally:
        await candles.stop()
        strategies.detach()
        indicators.stop()
        await bus.stop()
    return captured


def check_parity(spec: BacktestSpec, data: MarketData) -> ParityReport:
    """Run the backtest and the bus replay on ``data`` and compare their signals (see module doc)."""
    outcome = run_backtest(spec, loaded=[data])
    result = outcome.results[0]
    backtest = [(signal.time, signal.id) for signal, _ in result.signal_log]
    backtest_flat = {(signal.time, signal.id) for signal, flat in result.signal_log if flat}
    bus = [(s.time, s.id) for s in asyncio.run(bus_signals(data, spec))]
    held = result.held_candle_times  # close times of candles decided while holding or with an entry resting
    missing = sorted(backtest_flat - set(bus))
    extra = sorted(item for item in set(bus) - backtest_flat if item[0] not in held)
    return ParityReport(len(data), len(data) - len(held), sorted(bus), sorted(backtest), missing, extra)
