"""Closed candle / validated signal → entry request handed to the venue: in-process latency.

Run: .venv/bin/python bench/execution.py [--signals 2000] [--candles 500]

Two paths, each with the in-memory journal and with the durable SQLite journal (the default:
WAL, ``synchronous=NORMAL``, order + protection plan committed before the request leaves):

* SIGNAL_VALIDATED → request: one ``SignalValidated`` published on the bus at a time; the clock
  stops when the venue's ``place_order`` is entered.
* closed candle → request (what issue 6 names): one closed 1m candle published as
  ``KLINE_UPDATED``; it goes through the real CandleService (store + publish), IndicatorService
  (``MultiTimeframeEngine``), StrategyService (a bench strategy that signals on every candle),
  RiskService (sizing, limits, breakers) and ExecutionService, on the in-process bus.

Each sample is interleaved with a bare bus round trip (publish → a handler that does nothing),
the baseline, so both series see the same machine load. The venue double answers instantly (no
network), so the numbers are the bot's own overhead. CPU time (``time.process_time``) of each run
and the load average are printed too (the box is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ictbot.backtest.parity import MemoryCandleStore
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.candles import CandleService
from ictbot.domain.candle import Candle
from ictbot.domain.events import Alert, AlertLevel, KlineUpdated, OrderIntent, SignalValidated
from ictbot.domain.instrument import Instrument
from ictbot.domain.order import Fill, Order, OrderStatus
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.execution import ExecutionConfig, ExecutionService
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.service import IndicatorService
from ictbot.ports.clock import ManualClock, SystemClock
from ictbot.ports.market_data import CandleStore
from ictbot.ports.repositories import FillRepository, KeyValueStore, OrderJournal, PositionRepository
from ictbot.ports.venue import Balance, VenueOrderReport, VenuePosition
from ictbot.risk import AccountTracker, CircuitBreakers, RiskLimits, RiskService, SizingMode
from ictbot.strategies import (
    BaseStrategy,
    StrategyConfig,
    StrategyContext,
    StrategyRegistry,
    StrategyRunner,
    StrategyService,
)

D = Decimal
INSTRUMENT = Instrument(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=D("0.01"),
                        step_size=D("0.00001"), min_qty=D("0.00001"), min_notional=D("5"))


class InstantVenue:
    """Accepts every order at once and timestamps the moment the request reaches it."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.arrived_ns = 0

    async def instruments(self) -> dict[str, Instrument]:
        return {INSTRUMENT.symbol: INSTRUMENT}

    async def place_order(self, order: Order) -> VenueOrderReport:
        self.arrived_ns = time.perf_counter_ns()
        self.arrived.set()
        return VenueOrderReport(order.client_order_id, order.symbol, OrderStatus.NEW, exchange_order_id="1")

    async def place_oco(self, stop: Order, target: Order, list_client_id: str) -> list[VenueOrderReport]:
        raise NotImplementedError

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrderReport:
        raise NotImplementedError

    async def query_order(self, symbol: str, client_order_id: str) -> VenueOrderReport | None:
        return None

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderReport]:
        return []

    async def trades(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        return []

    async def balances(self) -> dict[str, Balance]:
        return {}

    async def positions(self) -> list[VenuePosition]:
        return []

    async def order_updates(self) -> Any:
        raise NotImplementedError


class DictJournal:
    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}

    async def save(self, order: Order) -> None:
        self.orders[order.client_order_id] = order

    async def save_with_values(self, order: Order, values: Mapping[str, str], store: KeyValueStore) -> None:
        for key, value in values.items():
            await store.set(key, value)
        await self.save(order)

    async def client_ids(self) -> set[str]:
        return set(self.orders)

    async def get(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    async def open_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status.is_open]

    async def by_signal(self, signal_id: str) -> list[Order]:
        return []

    async def query(self, **_: Any) -> list[Order]:
        return []


class NoFills:
    async def save(self, fill: Fill) -> bool:
        return True

    async def for_order(self, client_order_id: str) -> list[Fill]:
        return []

    async def recent(self, symbol: str | None = None, limit: int = 100) -> list[Fill]:
        return []


class NoPositions:
    async def save(self, position: Position) -> None:
        return None

    async def get(self, position_id: str) -> Position | None:
        return None

    async def open_positions(self) -> list[Position]:
        return []

    async def closed_positions(self, limit: int = 100, offset: int = 0) -> list[Position]:
        return []


class MemoryKV:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)


class EveryCandle(BaseStrategy[StrategyConfig]):
    """Bench-only strategy: a LONG market signal on every closed candle (stop 1 %, target 2 %)."""

    kind = "bench_every_candle"

    def on_candle(self, context: StrategyContext) -> Signal | None:
        close = context.candle.close
        return Signal(strategy_id=self.id, symbol=context.symbol, direction=Direction.LONG,
                      entry_type=EntryType.MARKET, stop_loss=(close * D("0.99")).quantize(D("0.01")),
                      take_profits=((close * D("1.02")).quantize(D("0.01")),), time=context.time,
                      reference_price=close, timeframe="1m")


def intent(i: int) -> OrderIntent:
    signal = Signal(strategy_id="bench", symbol="BTCUSDT", direction=Direction.LONG, entry_type=EntryType.LIMIT,
                    stop_loss=D("49000"), take_profits=(D("52000"),), time=1_700_000_000_000 + i,
                    entry_price=D("49500"), reference_price=D("50000"))
    return OrderIntent(signal=signal, quantity=D("0.01"), entry_price=D("49500"), stop_loss=D("49000"),
                       take_profits=(D("52000"),), risk_amount=D("5"))


def candle(i: int) -> Candle:
    close = D(50_000) + D(i % 97) - D(48)
    return Candle(symbol="BTCUSDT", timeframe=Timeframe.M1, open_time=1_700_000_040_000 + i * 60_000,
                  open=close - 5, high=close + 10, low=close - 10, close=close, volume=D("1.5"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Storage:
    """The repositories of one run: all in memory, or all on one SQLite database."""

    journal: OrderJournal
    fills: FillRepository
    positions: PositionRepository
    kv: KeyValueStore
    candles: CandleStore


Sample = Callable[[int], Awaitable[float]]


async def interleaved(n: int, bus: EventBus, sample: Sample, warm_up: int = 20) -> tuple[list[float], list[float]]:
    """Per iteration: a bare bus round trip, then one sample of the path (after ``warm_up`` untimed).

    Interleaving makes both series see the same machine load (the box is shared), so their ratio
    means something even when absolute p99s are inflated by preemption.
    """
    got = asyncio.Event()
    stamp = [0]

    def handler(_: Envelope) -> None:
        stamp[0] = time.perf_counter_ns()
        got.set()

    bus.subscribe(Topic.ALERT, handler, name="bench.baseline")
    payload = Alert(AlertLevel.INFO, "bench", "x")
    baseline: list[float] = []
    latencies: list[float] = []
    for i in range(warm_up + n):
        got.clear()
        start = time.perf_counter_ns()
        await bus.publish(Topic.ALERT, payload)
        await got.wait()
        took = await sample(i)
        if i >= warm_up:
            baseline.append((stamp[0] - start) / 1e6)
            latencies.append(took)
    return baseline, latencies


async def measure_signals(n: int, storage: Storage) -> tuple[list[float], list[float]]:
    """SIGNAL_VALIDATED published → venue.place_order entered."""
    bus = EventBus()
    venue = InstantVenue()
    service = ExecutionService(bus, venue, storage.journal, storage.fills, storage.positions,  # type: ignore[arg-type]
                               SystemClock(), ExecutionConfig(background_tasks=False), kv=storage.kv)
    await bus.start()
    await service.start()

    async def sample(i: int) -> float:
        venue.arrived.clear()
        start = time.perf_counter_ns()
        await bus.publish(Topic.SIGNAL_VALIDATED, SignalValidated(intent(i)))
        await asyncio.wait_for(venue.arrived.wait(), 10)
        took = (venue.arrived_ns - start) / 1e6
        await bus.wait_idle()
        await service.executor.drain()
        return took

    try:
        return await interleaved(n, bus, sample)
    finally:
        await service.stop()
        await bus.stop()


async def measure_candles(n: int, storage: Storage) -> tuple[list[float], list[float]]:
    """Closed candle published (KLINE_UPDATED) → venue.place_order entered, through every stage."""
    bus = EventBus()
    venue = InstantVenue()
    clock = ManualClock(candle(0).open_time)
    service = ExecutionService(bus, venue, storage.journal, storage.fills, storage.positions,  # type: ignore[arg-type]
                               clock, ExecutionConfig(background_tasks=False), kv=storage.kv)
    candles = CandleService(bus, storage.candles, base=Timeframe.M1, targets=())
    indicators = IndicatorService(bus, MultiTimeframeEngine(Timeframe.M1))
    registry = StrategyRegistry(include_builtins=False)
    registry.add(EveryCandle(StrategyConfig(base_timeframe="1m")))
    strategies = StrategyService(bus, StrategyRunner(registry))
    # Wide limits: every signal is accepted, so every candle ends in one entry request.
    limits = RiskLimits(sizing_mode=SizingMode.FIXED_QUANTITY, fixed_quantity=D("0.001"), max_open_positions=100_000,
                        max_open_positions_per_symbol=100_000, duplicate_window_seconds=0,
                        max_symbol_exposure_pct=D(12_500), max_total_exposure_pct=D(12_500))
    breakers = CircuitBreakers(storage.kv, clock, lambda: limits, bus=bus)
    await breakers.load()
    risk = RiskService(bus, limits=limits, instruments={INSTRUMENT.symbol: INSTRUMENT}, clock=clock,
                       breakers=breakers, account=AccountTracker(D(10_000_000)))
    indicators.start()
    strategies.attach()
    risk.attach()
    await candles.start()
    await bus.start()
    await service.start()

    async def sample(i: int) -> float:
        bar = candle(i)
        clock.set(bar.close_time)
        venue.arrived.clear()
        start = time.perf_counter_ns()
        await bus.publish(Topic.KLINE_UPDATED, KlineUpdated(bar))
        await asyncio.wait_for(venue.arrived.wait(), 10)
        took = (venue.arrived_ns - start) / 1e6
        await bus.wait_idle()
        await service.executor.drain()
        return took

    try:
        return await interleaved(n, bus, sample)
    finally:
        await service.stop()
        await candles.stop()
        risk.detach()
        strategies.detach()
        indicators.stop()
        await bus.stop()


Measure = Callable[[int, Storage], Awaitable[tuple[list[float], list[float]]]]


async def run(name: str, measure: Measure, n: int, sqlite: bool, results: list[tuple[str, list[float],
              list[float], float]]) -> None:
    from ictbot.adapters.storage import (
        Database,
        SqlCandleStore,
        SqlFillRepository,
        SqlKeyValueStore,
        SqlOrderJournal,
        SqlPositionRepository,
        sqlite_url,
    )

    cpu = time.process_time()
    if not sqlite:
        storage = Storage(DictJournal(), NoFills(), NoPositions(), MemoryKV(), MemoryCandleStore())
        baseline, latencies = await measure(n, storage)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(sqlite_url(Path(tmp) / "bench.db"))
            db.upgrade()
            storage = Storage(SqlOrderJournal(db), SqlFillRepository(db), SqlPositionRepository(db),
                              SqlKeyValueStore(db), SqlCandleStore(db))
            try:
                baseline, latencies = await measure(n, storage)
            finally:
                await db.close()
    results.append((name, baseline, latencies, (time.process_time() - cpu) / n * 1000))


def describe(name: str, values: list[float], baseline: list[float], cpu_ms: float) -> None:
    p50, p90, p99 = pct(values, 0.5), pct(values, 0.9), pct(values, 0.99)
    ok = "met" if p50 <= 2 and p99 <= 10 else "NOT met"
    print(f"{name:<44} p50 {p50:7.3f}  p90 {p90:7.3f}  p99 {p99:7.3f} ms  "
          f"(baseline p50 {pct(baseline, 0.5):.3f} p99 {pct(baseline, 0.99):.3f}; "
          f"p50 x{p50 / pct(baseline, 0.5):.0f}; cpu {cpu_ms:.2f} ms/iter)  target {ok}")


def loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def main(signals: int, candles: int) -> None:
    results: list[tuple[str, list[float], list[float], float]] = []
    print(f"load average before: {loadavg()}")
    await run("SIGNAL_VALIDATED -> request, memory", measure_signals, signals, False, results)
    await run("SIGNAL_VALIDATED -> request, SQLite", measure_signals, signals, True, results)
    await run("closed candle -> request, memory", measure_candles, candles, False, results)
    await run("closed candle -> request, SQLite", measure_candles, candles, True, results)
    print(f"samples: {signals} signals, {candles} candles per run, one at a time, venue answers instantly; "
          "target p50 <= 2 ms, p99 <= 10 ms")
    for name, baseline, latencies, cpu_ms in results:
        describe(name, latencies, baseline, cpu_ms)
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--signals", type=int, default=2000)
    parser.add_argument("--candles", type=int, default=500)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.signals, arguments.candles))
