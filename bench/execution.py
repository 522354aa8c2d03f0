"""Closed candle / validated signal → entry request handed to the venue: in-process latency.

Run: .venv/bin/python bench/execution.py [--signals 2000] [--candles 500] [--stages] [--webhook URL]
     [--webhook-updown]

Two paths, each with the in-memory journal and with the durable SQLite journal (the default:
WAL, ``synchronous=NORMAL``, order + protection plan committed before the request leaves):

* SIGNAL_VALIDATED → request: one ``SignalValidated`` published on the bus at a time; the clock
  stops when the venue's ``place_order`` is entered. The venue double accepts every order and
  never fills it (limit entries stay open).
* closed candle → request (what issue 6 names): one closed 1m candle published as
  ``KLINE_UPDATED``; it goes through the real CandleService (store + publish), IndicatorService
  (``MultiTimeframeEngine``), StrategyService (a bench strategy that signals on every candle),
  RiskService (sizing, limits, breakers) and ExecutionService, on the in-process bus. The venue
  is the paper venue (the simulator's matching engine, no fees): the clock stops when the entry
  request enters ``place_order``; then, outside the timed window, the entry fills, the position
  is protected by an OCO, the price moves through the target and the trade closes. Every sample
  starts like a live bot between trades (no open order, position or risk reservation); what
  still accumulates is history (journal rows, closed positions, remembered signals).
  ``--stages`` splits this path (SQLite) by the publish times of each stage's topic.
  ``--webhook URL`` (repeatable) runs the candle paths again with the trade journal and a notifier
  posting every record to URL attached to the bus: give a live local server and one that is down
  to see that a dead channel costs the pipeline nothing more and raises one ALERT.
  ``--webhook-updown`` does that in one command: a local HTTP server that answers 200 (up) and a
  closed port (down); it prints the p50 ratios down/up and up/none and the ALERTs each raised.

Each sample is interleaved with a bare bus round trip (publish → a handler that does nothing),
the baseline, so both series see the same machine load. The venue answers instantly (no
network), so the numbers are the bot's own overhead. CPU time (``time.process_time``) of each run
(including the untimed trade lifecycle in the candle mode) and the load average are printed too
(the box is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from ictbot.backtest.parity import MemoryCandleStore
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.candles import CandleService
from ictbot.domain.candle import Candle
from ictbot.domain.events import Alert, AlertLevel, KlineUpdated, OrderIntent, SignalValidated
from ictbot.domain.instrument import Instrument
from ictbot.domain.order import Fill, Order, OrderLeg, OrderStatus
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.paper_venue import PaperVenue
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


class FillingVenue(PaperVenue):
    """The paper venue (the simulator's matching engine): market entries fill at once, protection
    is placed as a real OCO, a price move through the target closes the trade. The clock stops when
    an ENTRY request reaches ``place_order``; everything after it (matching, the fill, arming the
    OCO, closing the trade) happens outside the timed window."""

    def __init__(self, clock: ManualClock) -> None:
        # No fees: a round trip closed at its target is a win, so no loss breaker or stop-out
        # cooldown kicks in and the dust a base-asset fee leaves never stays open.
        super().__init__(clock, config=MatchingConfig(maker_commission=D(0), taker_commission=D(0)))
        self.arrived = asyncio.Event()
        self.arrived_ns = 0

    async def place_order(self, order: Order) -> VenueOrderReport:
        if order.leg is OrderLeg.ENTRY:
            self.arrived_ns = time.perf_counter_ns()
            self.arrived.set()
        return await super().place_order(order)

    def move_price(self, symbol: str, price: Decimal) -> list[VenueOrderReport]:
        """Trade at ``price``; returns the reports the user stream would deliver (fills of resting
        orders). The venue's own update queue is not consumed by anyone here, so it is emptied."""
        reports = self.on_price(symbol, price)
        while not self._updates.empty():
            self._updates.get_nowait()
        return reports


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

# The stages of the candle path, in order: when each topic was published, then the request.
STAGE_TOPICS = (Topic.KLINE_UPDATED, Topic.CANDLE_STORED, Topic.INDICATORS_UPDATED, Topic.SIGNAL_GENERATED,
                Topic.SIGNAL_VALIDATED)
STAGE_STAMPS: list[list[int]] = []  # per sample: perf_counter_ns of each STAGE_TOPICS publish, then the request


class StampingBus(EventBus):
    """The in-process bus, noting when each stage topic is published (``--stages`` only)."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: dict[Topic, int] = {}

    async def publish(self, topic: Topic, payload: Any) -> Envelope:
        if topic in STAGE_TOPICS:
            self.stamps[topic] = time.perf_counter_ns()
        return await super().publish(topic, payload)


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


async def measure_candles(n: int, storage: Storage, stages: bool = False) -> tuple[list[float], list[float]]:
    """Closed candle published (KLINE_UPDATED) → venue.place_order entered, through every stage.

    Each trade then runs its course outside the timed window, like a live one: the entry fills,
    the position is protected by an OCO, the price moves through the target and the position
    closes. So every sample starts from the steady state of a live bot (no open order, no open
    position, no risk reservation), not from the pile of open entries a never-filling venue leaves.
    """
    bus = StampingBus() if stages else EventBus()
    clock = ManualClock(candle(0).open_time)
    venue = FillingVenue(clock)
    venue.add_symbol(INSTRUMENT.symbol, candle(0).open)
    instruments = await venue.instruments()
    service = ExecutionService(bus, venue, storage.journal, storage.fills, storage.positions,
                               clock, ExecutionConfig(background_tasks=False), kv=storage.kv)
    candles = CandleService(bus, storage.candles, base=Timeframe.M1, targets=())
    indicators = IndicatorService(bus, MultiTimeframeEngine(Timeframe.M1))
    registry = StrategyRegistry(include_builtins=False)
    registry.add(EveryCandle(StrategyConfig(base_timeframe="1m")))
    strategies = StrategyService(bus, StrategyRunner(registry))
    # Live-like limits (one position at a time); every signal is accepted because each trade is
    # closed before the next candle. A trade left open would get the next signal rejected and the
    # sample would time out instead of measuring a different path.
    # The fee rates are the venue's (none): judged with the default 0.1 % the bench strategy's 2:1
    # target nets 1.4996 after fees, under the 1.5 minimum, and every signal was rejected.
    limits = RiskLimits(sizing_mode=SizingMode.FIXED_QUANTITY, fixed_quantity=D("0.001"), max_open_positions=1,
                        max_open_positions_per_symbol=1, duplicate_window_seconds=0,
                        maker_fee_rate=D(0), taker_fee_rate=D(0))
    breakers = CircuitBreakers(storage.kv, clock, lambda: limits, bus=bus)
    await breakers.load()
    risk = RiskService(bus, limits=limits, instruments=instruments, clock=clock,
                       breakers=breakers, account=AccountTracker(D(10_000)))
    rejected = RejectionWatch(bus)
    indicators.start()
    strategies.attach()
    risk.attach()
    await candles.start()
    await bus.start()
    await service.start()
    # After the stages, as the app starts it (the ``notifications`` service follows risk and
    # execution), so its bus handlers run after theirs.
    notifier = attach_notifier(bus, breakers) if NOTIFY_URL else None
    if notifier is not None:
        from ictbot.app.tasks import TaskManager

        await notifier.start(TaskManager())

    async def settle() -> None:
        await bus.wait_idle()
        while not await service.executor.drain():
            pass
        await bus.wait_idle()

    async def sample(i: int) -> float:
        bar = candle(i)
        clock.set(bar.close_time)
        venue.move_price(bar.symbol, bar.close)  # the market entry fills at this candle's close
        venue.arrived.clear()
        start = time.perf_counter_ns()
        await bus.publish(Topic.KLINE_UPDATED, KlineUpdated(bar))
        await rejected.wait_for(venue.arrived, i)
        took = (venue.arrived_ns - start) / 1e6
        if isinstance(bus, StampingBus):
            STAGE_STAMPS.append([bus.stamps.get(topic, 0) for topic in STAGE_TOPICS] + [venue.arrived_ns])
            bus.stamps.clear()
        await settle()  # entry filled, position opened and protected
        positions = service.positions.open_positions()
        if len(positions) != 1 or not positions[0].take_profits:
            raise RuntimeError(f"candle {i}: expected one protected position, found {positions}")
        beyond_target = positions[0].take_profits[0] * D("1.001")
        for report in venue.move_price(bar.symbol, beyond_target):  # the target fills: trade closed
            await service.executor.apply_report(report)
        await settle()
        if service.positions.open_positions() or service.executor.open_orders():
            raise RuntimeError(f"candle {i}: the trade did not close: {service.executor.open_orders()}")
        return took

    try:
        return await interleaved(n, bus, sample)
    finally:
        if notifier is not None:
            await bus.wait_idle()
            await notifier.stop(flush_timeout=0)
            NOTIFY_STATS.append(notifier.status())
        await service.stop()
        await candles.stop()
        risk.detach()
        strategies.detach()
        indicators.stop()
        await bus.stop()


NOTIFY_URL = ""
NOTIFY_STATS: list[dict[str, dict[str, object]]] = []


def attach_notifier(bus: EventBus, breakers: CircuitBreakers) -> Any:
    """The trade journal plus a notifier posting every record to ``NOTIFY_URL`` (as the app wires them)."""
    from ictbot.monitoring.journal import TradeJournal
    from ictbot.notify.config import WebhookOptions
    from ictbot.notify.dispatcher import Notifier, failure_message
    from ictbot.notify.webhook import WebhookChannel

    async def on_failing(channel: str, error: str) -> None:
        level, message = failure_message(channel, error)
        await bus.publish(Topic.ALERT, Alert(level, "notify", message, {"channel": channel}))

    journal = TradeJournal(bus, trading_state=lambda: breakers.trading_state.value)
    notifier = Notifier(on_failing)
    options = WebhookOptions(url=NOTIFY_URL, max_per_minute=600, backoff_seconds=0.05)
    notifier.add(WebhookChannel("bench", NOTIFY_URL, secret="bench-secret"), options)
    journal.add_sink(notifier.submit)
    journal.attach()
    return notifier


class RejectionWatch:
    """Fails a candle sample at once, with the risk gate's reasons, when its signal is rejected
    (instead of waiting out the timeout for an order that will never come)."""

    def __init__(self, bus: EventBus) -> None:
        self.event = asyncio.Event()
        self.reasons: tuple[str, ...] = ()
        bus.subscribe(Topic.SIGNAL_REJECTED, self._on_rejected, name="bench.rejected")

    def _on_rejected(self, envelope: Envelope) -> None:
        self.reasons = tuple(envelope.payload.reasons)
        self.event.set()

    async def wait_for(self, arrived: asyncio.Event, sample: int) -> None:
        waits = {asyncio.ensure_future(arrived.wait()), asyncio.ensure_future(self.event.wait())}
        _done, pending = await asyncio.wait(waits, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if not arrived.is_set():
            why = "; ".join(self.reasons) if self.event.is_set() else "no order within 10 s"
            raise RuntimeError(f"candle {sample}: the signal did not reach the venue: {why}")


Measure = Callable[..., Awaitable[tuple[list[float], list[float]]]]


async def run(name: str, measure: Measure, n: int, sqlite: bool, results: list[tuple[str, list[float],
              list[float], float]], stages: bool = False) -> None:
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
                baseline, latencies = await measure(n, storage, stages) if stages else await measure(n, storage)
            finally:
                await db.close()
    results.append((name, baseline, latencies, (time.process_time() - cpu) / n * 1000))


def describe(name: str, values: list[float], baseline: list[float], cpu_ms: float) -> None:
    p50, p90, p99 = pct(values, 0.5), pct(values, 0.9), pct(values, 0.99)
    ok = "met" if p50 <= 2 and p99 <= 10 else "NOT met"
    print(f"{name:<44} p50 {p50:7.3f}  p90 {p90:7.3f}  p99 {p99:7.3f} ms  "
          f"(baseline p50 {pct(baseline, 0.5):.3f} p99 {pct(baseline, 0.99):.3f}; "
          f"p50 x{p50 / pct(baseline, 0.5):.0f}; cpu {cpu_ms:.2f} ms/iter)  target {ok}")


def describe_stages(rows: list[list[int]], n: int) -> None:
    """p50 of each stage of the SQLite candle path (timed samples only), overall and over the first
    and last 50 samples (a stage that grows over the run shows state piling up)."""
    timed = rows[-n:]
    names = ["kline -> candle stored", "-> indicators", "-> signal", "-> validated (risk)", "-> request"]
    print("stages of closed candle -> request, SQLite (p50 ms; first 50 / last 50 samples):")
    for k, name in enumerate(names):
        spans = [(row[k + 1] - row[k]) / 1e6 for row in timed if row[k] and row[k + 1]]
        print(f"  {name:<24} {pct(spans, 0.5):6.3f}   ({pct(spans[:50], 0.5):.3f} / {pct(spans[-50:], 0.5):.3f})")


class UpServer:
    """A local HTTP server answering every request 200 (the webhook that is up)."""

    def __init__(self) -> None:
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                self.requests += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens once the probe is closed


def describe_updown(results: list[tuple[str, list[float], list[float], float]]) -> None:
    """p50 ratios of the runs ``--webhook-updown`` made: down/up and up/none, per journal."""
    p50 = {name: pct(latencies, 0.5) for name, _, latencies, _ in results}
    for journal in ("memory", "SQLite"):
        none = p50[f"closed candle -> request, {journal}"]
        up, down = p50[f"candle -> request, {journal}, webhook 1"], p50[f"candle -> request, {journal}, webhook 2"]
        print(f"webhook down/up p50 ratio, {journal}: {down / up:.2f} (up/none {up / none:.2f}; "
              f"p50 none {none:.3f}, up {up:.3f}, down {down:.3f} ms)")


def loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def main(signals: int, candles: int, stages: bool, webhooks: list[str] | None = None,
               updown: bool = False) -> None:
    if updown:
        async with UpServer() as up:
            await measure_all(signals, candles, stages, [up, closed_port_url()], updown=True)
    else:
        await measure_all(signals, candles, stages, webhooks)


async def measure_all(signals: int, candles: int, stages: bool, webhooks: list[str] | None = None,
                      updown: bool = False) -> None:
    global NOTIFY_URL
    results: list[tuple[str, list[float], list[float], float]] = []
    print(f"load average before: {loadavg()}")
    if signals:
        await run("SIGNAL_VALIDATED -> request, memory", measure_signals, signals, False, results)
        await run("SIGNAL_VALIDATED -> request, SQLite", measure_signals, signals, True, results)
    if candles:
        await run("closed candle -> request, memory", measure_candles, candles, False, results)
        await run("closed candle -> request, SQLite", measure_candles, candles, True, results, stages)
    for n, webhook in enumerate((webhooks or []) if candles else [], 1):
        NOTIFY_URL = webhook
        await run(f"candle -> request, memory, webhook {n}", measure_candles, candles, False, results)
        await run(f"candle -> request, SQLite, webhook {n}", measure_candles, candles, True, results)
        NOTIFY_URL = ""
    print(f"samples: {signals} signals, {candles} candles per run, one at a time, venue answers instantly; "
          "target p50 <= 2 ms, p99 <= 10 ms")
    for name, baseline, latencies, cpu_ms in results:
        describe(name, latencies, baseline, cpu_ms)
    if stages and candles:
        describe_stages(STAGE_STAMPS, candles)
    if updown and candles:
        describe_updown(results)
    for n, stats in enumerate(NOTIFY_STATS):
        bench = stats["bench"]
        print(f"webhook {n // 2 + 1} ({(webhooks or [])[n // 2]}): queued {bench['queued']}, "
              f"sent {bench['sent_messages']} messages, failed attempts {bench['failed_attempts']}, "
              f"dropped {bench['dropped']}, ALERTs {bench['alerts']}")
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--signals", type=int, default=2000, help="samples of the signal path (0: skip it)")
    parser.add_argument("--candles", type=int, default=500, help="samples of the candle path (0: skip it)")
    parser.add_argument("--stages", action="store_true",
                        help="also split the SQLite candle path by stage (publish times of each topic)")
    parser.add_argument("--webhook", action="append", default=[],
                        help="also run the candle paths with the journal and a notifier posting to this URL")
    parser.add_argument("--webhook-updown", action="store_true",
                        help="run the candle paths with a webhook that is up, then one that is down; print ratios")
    arguments = parser.parse_args()
    # The trades run their course after every candle sample; their INFO logs are not the point.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main(arguments.signals, arguments.candles, arguments.stages, arguments.webhook,
                     arguments.webhook_updown))
