"""End to end: ExecutionService → Binance adapter → Binance-protocol simulator on 127.0.0.1.

The B11 scenarios of the protocol spec: a create whose reply is lost after the order was
committed (exactly one order, found by query), or before (nothing placed, nothing resent); and a
stop that triggers on the simulator's price path, closing the position.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from ictbot.bus import EventBus
from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution import LOST_REASON, ExecutionConfig, ExecutionService
from ictbot.ports.clock import SystemClock
from tests.unit.execution.harness import make_intent
from tests.unit.execution.memory_repos import MemoryFills, MemoryJournal, MemoryKV, MemoryPositions

sim_mod = pytest.importorskip("ictbot.exchange_sim")
binance = pytest.importorskip("ictbot.adapters.binance")
sim_conftest = pytest.importorskip("tests.integration.exchange_sim.conftest")

D = Decimal
KEY = "e2eKey"
SECRET = "e2eSecret"
# The plain path (entry, then the bot places the OCO); test_otoco_e2e.py covers OTOCO entry lists.
CONFIG = ExecutionConfig(
    entry_lists=False,
    poll_interval_s=0.05,
    timer_interval_s=0.05,
    reconcile_interval_s=3600,
    unknown_grace_s=1.0,
    unknown_query_interval_s=0.1,
)


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait for the background tasks to reach a state (bounded; generous for a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


@dataclass
class Books:
    journal: MemoryJournal = field(default_factory=MemoryJournal)
    fills: MemoryFills = field(default_factory=MemoryFills)
    positions: MemoryPositions = field(default_factory=MemoryPositions)
    kv: MemoryKV = field(default_factory=MemoryKV)


@asynccontextmanager
async def bot(sim: object, books: Books, config: ExecutionConfig = CONFIG) -> AsyncIterator[ExecutionService]:
    """One bot process: its own adapter, bus and service on the given storage."""
    venue = binance.build_venue(
        binance.BinanceConfig(
            environment="local",
            local_port=sim.port,  # type: ignore[attr-defined]
            api_key=KEY,
            api_secret=SECRET,
            timeout_s=2.0,
        )
    )
    bus = EventBus()
    service = ExecutionService(
        bus, venue, books.journal, books.fills, books.positions, SystemClock(), config, kv=books.kv
    )
    await bus.start()
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        await bus.stop()
        await venue.client.aclose()


@asynccontextmanager
async def stack(
    rows: list[tuple[float, float, float, float, float]],
) -> AsyncIterator[tuple[object, ExecutionService, MemoryJournal]]:
    config = sim_conftest.scripted_config(rows)
    async with sim_mod.SimulatorServer(config) as sim:
        books = Books()
        async with bot(sim, books) as service:
            yield sim, service, books.journal


FLAT = [(50_000.0, 50_010.0, 49_990.0, 50_000.0, 5.0)] * 5


async def test_reply_lost_after_commit_gives_exactly_one_order_found_by_query() -> None:
    async with stack(FLAT) as (sim, service, journal):
        sim.control.lose_next_response("POST", "/api/v3/order", mode="error_503", after_commit=True)  # type: ignore[attr-defined]
        entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("51000",)))
        # The reply was a 503; the user stream may already have told us the outcome.
        assert service.executor.stats.unknown == 1
        assert entry.status in (OrderStatus.SUBMITTED_UNKNOWN, OrderStatus.FILLED)
        await until(lambda: journal.orders[entry.client_order_id].status is OrderStatus.FILLED)
        await until(
            lambda: (
                service.executor.protection_deficit(entry.position_id, confirmed=True) == 0
                and service.positions.get(entry.position_id) is not None
            )
        )
        orders = sim.control.orders(KEY, "BTCUSDT")  # type: ignore[attr-defined]
        assert [o.client_order_id for o in orders].count(entry.client_order_id) == 1
        assert len([o for o in orders if o.client_order_id.endswith("-E0")]) == 1


async def test_reply_lost_before_commit_places_nothing_and_is_never_resent() -> None:
    async with stack(FLAT) as (sim, service, journal):
        sim.control.lose_next_response("POST", "/api/v3/order", mode="timeout_1007", after_commit=False)  # type: ignore[attr-defined]
        entry = await service.executor.submit_intent(make_intent(qty="0.01"))
        await until(lambda: journal.orders[entry.client_order_id].status is OrderStatus.REJECTED)
        assert journal.orders[entry.client_order_id].reason == LOST_REASON
        assert sim.control.orders(KEY, "BTCUSDT") == []  # type: ignore[attr-defined]
        assert service.positions.open_positions() == []


async def test_the_stop_triggers_on_the_price_path_and_closes_the_position() -> None:
    rows = FLAT + [(50_000.0, 50_000.0, 48_500.0, 48_600.0, 5.0)] * 2
    async with stack(rows) as (sim, service, journal):
        entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("51000",)))
        await until(
            lambda: (
                service.executor.protection_deficit(entry.position_id, confirmed=True) == 0
                and service.positions.get(entry.position_id) is not None
            )
        )
        await sim.control.step(7)  # type: ignore[attr-defined]
        await until(
            lambda: service.positions.get(entry.position_id) is None and not service.executor.open_orders()
        )  # the journal is written after the position
        legs = {o.leg: o.status for o in journal.orders.values()}
        assert legs[OrderLeg.STOP] is OrderStatus.FILLED
        assert legs[OrderLeg.TAKE_PROFIT] in (OrderStatus.EXPIRED, OrderStatus.CANCELED)
        assert sim.control.open_orders(KEY) == []  # type: ignore[attr-defined]
        assert service.health()["stream_up"] is True


async def test_bot_crash_while_the_entry_fills_then_restart_recovers_position_and_protection() -> None:
    rows = FLAT + [(50_000.0, 50_000.0, 49_900.0, 49_950.0, 5.0)] * 2
    config = sim_conftest.scripted_config(rows)
    async with sim_mod.SimulatorServer(config) as sim:
        books = Books()
        async with bot(sim, books) as first:
            entry = await first.executor.submit_intent(
                make_intent(qty="0.01", entry_type=EntryType.LIMIT, entry="49960", stop="49000", targets=("51000",))
            )
            await until(lambda: books.journal.orders[entry.client_order_id].status is OrderStatus.NEW)
        await sim.control.step(7)  # the bot is down while its entry fills
        assert sim.control.open_orders(KEY) == []

        async with bot(sim, books) as second:
            await until(
                lambda: (
                    second.executor.protection_deficit(entry.position_id, confirmed=True) == 0
                    and second.positions.get(entry.position_id) is not None
                )
            )
            stored = books.journal.orders[entry.client_order_id]
            assert stored.status is OrderStatus.FILLED and stored.fee_in("BTC") > 0  # real trade detail
            position = second.positions.get(entry.position_id)
            assert position is not None and position.qty == D("0.01") - stored.fee_in("BTC")
            assert position.stop_loss == D("49000")
            entries = [o for o in sim.control.orders(KEY, "BTCUSDT") if o.client_order_id == entry.client_order_id]
            assert len(entries) == 1
            assert second.health()["last_reconcile"]["clean"] is True


async def test_exchange_restart_while_the_bot_runs_then_fills_are_picked_up_after_reconnect() -> None:
    rows = FLAT + [(50_000.0, 50_000.0, 49_900.0, 49_950.0, 5.0)] * 2
    config = sim_conftest.scripted_config(rows)
    async with sim_mod.SimulatorServer(config) as sim:
        books = Books()
        async with bot(sim, books) as service:
            entry = await service.executor.submit_intent(
                make_intent(qty="0.01", entry_type=EntryType.LIMIT, entry="49960", stop="49000", targets=("51000",)))
            await until(lambda: books.journal.orders[entry.client_order_id].status is OrderStatus.NEW)
            drops = service.health()["stream_drops"]
            await sim.control.restart(downtime_s=0.3)
            await sim.control.step(7)  # the entry fills; the bot may or may not have been listening
            await until(lambda: service.health()["stream_drops"] > drops)
            await until(lambda: service.executor.protection_deficit(entry.position_id, confirmed=True) == 0
                        and service.positions.get(entry.position_id) is not None)
            assert books.journal.orders[entry.client_order_id].status is OrderStatus.FILLED
            await until(lambda: service.health()["stream_up"] is True)
            assert service.health()["last_reconcile"]["clean"] is True
            assert len([o for o in sim.control.orders(KEY, "BTCUSDT") if o.client_order_id.endswith("-E0")]) == 1
