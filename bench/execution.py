"""SIGNAL_VALIDATED → entry request handed to the venue: in-process latency of the execution path.

Run: .venv/bin/python bench/execution.py [--signals 2000]

Measured per signal, one at a time: publish ``SignalValidated`` on the bus → the venue's
``place_order`` is called (the order already journaled). Printed next to:

* baseline: a bare bus round trip (publish → a handler that does nothing), same process;
* the same path with the order journal on SQLite (WAL, one commit before the request).

The venue double answers instantly (no network), so the numbers are the bot's own overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.events import Alert, AlertLevel, OrderIntent, SignalValidated
from ictbot.domain.instrument import Instrument
from ictbot.domain.order import Fill, Order, OrderStatus
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.execution import ExecutionConfig, ExecutionService
from ictbot.ports.clock import SystemClock
from ictbot.ports.repositories import FillRepository, KeyValueStore, OrderJournal, PositionRepository
from ictbot.ports.venue import Balance, VenueOrderReport, VenuePosition

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


def intent(i: int) -> OrderIntent:
    signal = Signal(strategy_id="bench", symbol="BTCUSDT", direction=Direction.LONG, entry_type=EntryType.LIMIT,
                    stop_loss=D("49000"), take_profits=(D("52000"),), time=1_700_000_000_000 + i,
                    entry_price=D("49500"), reference_price=D("50000"))
    return OrderIntent(signal=signal, quantity=D("0.01"), entry_price=D("49500"), stop_loss=D("49000"),
                       take_profits=(D("52000"),), risk_amount=D("5"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(n: int, journal: OrderJournal, fills: FillRepository, positions: PositionRepository,
                  kv: KeyValueStore | None = None) -> tuple[list[float], list[float]]:
    """Interleaved samples: a bare bus round trip, then a signal → request, per iteration.

    Interleaving makes both series see the same machine load (the box is shared), so their ratio
    means something even when absolute p99s are inflated by preemption.
    """
    bus = EventBus()
    venue = InstantVenue()
    got = asyncio.Event()
    stamp = [0]

    def handler(_: Envelope) -> None:
        stamp[0] = time.perf_counter_ns()
        got.set()

    bus.subscribe(Topic.ALERT, handler, name="bench.baseline")
    service = ExecutionService(bus, venue, journal, fills, positions, SystemClock(),  # type: ignore[arg-type]
                               ExecutionConfig(background_tasks=False), kv=kv)
    await bus.start()
    await service.start()
    payload = Alert(AlertLevel.INFO, "bench", "x")
    baseline: list[float] = []
    latencies: list[float] = []
    for i in range(n):
        got.clear()
        start = time.perf_counter_ns()
        await bus.publish(Topic.ALERT, payload)
        await got.wait()
        baseline.append((stamp[0] - start) / 1e6)

        venue.arrived.clear()
        start = time.perf_counter_ns()
        await bus.publish(Topic.SIGNAL_VALIDATED, SignalValidated(intent(i)))
        await venue.arrived.wait()
        latencies.append((venue.arrived_ns - start) / 1e6)
        await bus.wait_idle()
        await service.executor.drain()
    await service.stop()
    await bus.stop()
    return baseline, latencies


def describe(name: str, values: list[float], baseline: list[float] | None = None) -> None:
    p50, p90, p99 = pct(values, 0.5), pct(values, 0.9), pct(values, 0.99)
    line = f"{name:<46} p50 {p50:7.3f}  p90 {p90:7.3f}  p99 {p99:7.3f} ms"
    if baseline is not None:
        line += f"   (p50 x{p50 / pct(baseline, 0.5):.0f}, p99 x{p99 / pct(baseline, 0.99):.0f} of baseline)"
    print(line)


async def main(n: int) -> None:
    from ictbot.adapters.storage import (
        Database,
        SqlFillRepository,
        SqlKeyValueStore,
        SqlOrderJournal,
        SqlPositionRepository,
        sqlite_url,
    )

    base_memory, memory = await measure(n, DictJournal(), NoFills(), NoPositions())
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(sqlite_url(Path(tmp) / "bench.db"))
        db.upgrade()
        base_sqlite, sqlite = await measure(n // 4, SqlOrderJournal(db), SqlFillRepository(db),
                                            SqlPositionRepository(db), SqlKeyValueStore(db))
        await db.close()
    print(f"signals: {n} (SQLite run: {n // 4}), one at a time, venue answers instantly; "
          f"baseline interleaved with each sample; mean of memory run {statistics.fmean(memory):.3f} ms")
    describe("baseline: bare bus round trip (memory run)", base_memory)
    describe("SIGNAL_VALIDATED -> request (memory journal)", memory, base_memory)
    describe("baseline: bare bus round trip (SQLite run)", base_sqlite)
    describe("SIGNAL_VALIDATED -> request (SQLite journal)", sqlite, base_sqlite)
    ok = pct(memory, 0.5) <= 2 and pct(memory, 0.99) <= 10
    print(f"target p50 <= 2 ms, p99 <= 10 ms (memory journal): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=2000)
    asyncio.run(main(parser.parse_args().signals))
