"""The doubles of ``bench/execution.py``: venues that timestamp the entry request, in-memory
repositories, the bench strategy and the synthetic candles and intents."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.candle import Candle
from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.order import Fill, Order, OrderLeg, OrderStatus
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.paper_venue import PaperVenue
from ictbot.ports.clock import ManualClock
from ictbot.ports.market_data import CandleStore
from ictbot.ports.repositories import FillRepository, KeyValueStore, OrderJournal, PositionRepository
from ictbot.ports.venue import Balance, VenueOrderReport, VenuePosition
from ictbot.strategies import BaseStrategy, StrategyConfig, StrategyContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the test doubles

from tests.unit.execution.memory_repos import MemoryKV as MemoryKV  # re-exported to bench/execution.py

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


@dataclass
class Storage:
    """The repositories of one run: all in memory, or all on one SQLite database."""

    journal: OrderJournal
    fills: FillRepository
    positions: PositionRepository
    kv: KeyValueStore
    candles: CandleStore


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
