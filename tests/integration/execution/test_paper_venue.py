"""Execution against the in-process paper venue (the simulator's matching engine)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

from ictbot.bus import EventBus
from ictbot.domain.market import Market
from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.signal import Direction
from ictbot.exchange_sim import paper_venue as paper
from ictbot.execution import ExecutionConfig, ExecutionService
from ictbot.ports.clock import SystemClock
from tests.unit.execution.harness import make_intent
from tests.unit.execution.memory_repos import MemoryFills, MemoryJournal, MemoryKV, MemoryPositions

D = Decimal
FAST = ExecutionConfig(poll_interval_s=0.01, timer_interval_s=0.01, reconcile_interval_s=3600)


@dataclass
class Storage:
    journal: MemoryJournal
    fills: MemoryFills
    positions: MemoryPositions
    kv: MemoryKV


async def until(condition: Callable[[], bool], seconds: float = 20.0, state: Callable[[], object] = str) -> None:
    """Wait for the background tasks to reach a state (bounded; generous for a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; state: {state()}")
        await asyncio.sleep(0.005)


@asynccontextmanager
async def running(venue: object, storage: Storage) -> AsyncIterator[ExecutionService]:
    bus = EventBus()
    service = ExecutionService(bus, venue, storage.journal, storage.fills, storage.positions,  # type: ignore[arg-type]
                               SystemClock(), FAST, kv=storage.kv)
    await bus.start()
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        await bus.stop()


def storage() -> Storage:
    return Storage(MemoryJournal(), MemoryFills(), MemoryPositions(), MemoryKV())


async def test_spot_round_trip_on_the_paper_venue() -> None:
    venue = paper.PaperVenue(SystemClock(), market=Market.SPOT)
    venue.add_symbol("BTCUSDT", D("50000"))
    store = storage()
    async with running(venue, store) as service:
        entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("52000",)))
        await until(lambda: service.positions.get(entry.position_id) is not None
                    and service.executor.protection_deficit(entry.position_id, confirmed=True) == 0)
        assert len(await venue.open_orders()) == 2  # the OCO legs

        venue.on_price("BTCUSDT", D("52100"))
        await until(lambda: service.positions.get(entry.position_id) is None)
        await until(lambda: not service.executor.open_orders())
        assert await venue.open_orders() == []
        closed = store.positions.positions[entry.position_id]
        assert not closed.is_open and closed.realized_pnl > 0
        legs = {o.leg: o.status for o in store.journal.orders.values()}
        assert legs[OrderLeg.TAKE_PROFIT] is OrderStatus.FILLED
        assert legs[OrderLeg.STOP] in (OrderStatus.EXPIRED, OrderStatus.CANCELED)
        assert service.health()["last_reconcile"]["clean"] is True


async def test_futures_short_round_trip_on_the_paper_venue() -> None:
    venue = paper.PaperVenue(SystemClock(), market=Market.USDM)
    venue.add_symbol("BTCUSDT", D("50000"))
    store = storage()
    async with running(venue, store) as service:
        intent = make_intent(direction=Direction.SHORT, qty="0.01", stop="51000", targets=("48000",))
        entry = await service.executor.submit_intent(intent)
        # Stop and target are separate algo orders: wait until the venue acknowledged both, or the
        # price move below could pass the target before it exists.
        await until(lambda: service.positions.get(entry.position_id) is not None
                    and sorted(o.status.value for o in service.executor.open_orders()) == ["NEW", "NEW"])
        assert {p.symbol: p.qty for p in await venue.positions()} == {"BTCUSDT": D("-0.01")}

        venue.on_price("BTCUSDT", D("47900"))
        await until(lambda: service.positions.get(entry.position_id) is None, state=lambda: (
            service.health(), [(o.client_order_id, o.status, o.filled_qty, o.exchange_order_id)
                               for o in store.journal.orders.values()], venue.engine.algos))
        await until(lambda: not service.executor.open_orders())
        assert await venue.positions() == []
        assert await venue.open_orders() == []
        assert store.positions.positions[entry.position_id].realized_pnl > 0


async def test_restart_on_the_paper_venue_keeps_the_stop_and_places_nothing_new() -> None:
    venue = paper.PaperVenue(SystemClock(), market=Market.SPOT)
    venue.add_symbol("BTCUSDT", D("50000"))
    store = storage()
    async with running(venue, store) as service:
        entry = await service.executor.submit_intent(make_intent(qty="0.01"))
        await until(lambda: service.executor.protection_deficit(entry.position_id, confirmed=True) == 0
                    and service.positions.get(entry.position_id) is not None)
    before = {r.client_order_id for r in await venue.open_orders()}

    async with running(venue, store) as again:
        assert again.positions.get(entry.position_id) is not None
        assert again.executor.protection_deficit(entry.position_id, confirmed=True) == 0
        assert {r.client_order_id for r in await venue.open_orders()} == before
        assert again.health()["ready"] is True
