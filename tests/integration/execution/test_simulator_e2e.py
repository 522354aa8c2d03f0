"""End to end: ExecutionService → Binance adapter → Binance-protocol simulator on 127.0.0.1.

The B11 scenarios of the protocol spec: a create whose reply is lost after the order was
committed (exactly one order, found by query), or before (nothing placed, nothing resent); and a
stop that triggers on the simulator's price path, closing the position.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest

from ictbot.bus import EventBus
from ictbot.domain.order import OrderLeg, OrderStatus
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
CONFIG = ExecutionConfig(poll_interval_s=0.05, timer_interval_s=0.05, reconcile_interval_s=3600,
                         unknown_grace_s=1.0, unknown_query_interval_s=0.1)


async def until(condition: Callable[[], bool], limit: int = 1000) -> None:
    for _ in range(limit):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


@asynccontextmanager
async def stack(rows: list[tuple[float, float, float, float, float]]
                ) -> AsyncIterator[tuple[object, ExecutionService, MemoryJournal]]:
    config = sim_conftest.scripted_config(rows)
    async with sim_mod.SimulatorServer(config) as sim:
        venue = binance.build_venue(binance.BinanceConfig(environment="local", local_port=sim.port, api_key=KEY,
                                                          api_secret=SECRET, timeout_s=2.0))
        bus = EventBus()
        journal = MemoryJournal()
        service = ExecutionService(bus, venue, journal, MemoryFills(), MemoryPositions(), SystemClock(), CONFIG,
                                   kv=MemoryKV())
        await bus.start()
        await service.start()
        try:
            yield sim, service, journal
        finally:
            await service.stop()
            await bus.stop()
            await venue.client.aclose()


FLAT = [(50_000.0, 50_010.0, 49_990.0, 50_000.0, 5.0)] * 5


async def test_reply_lost_after_commit_gives_exactly_one_order_found_by_query() -> None:
    async with stack(FLAT) as (sim, service, journal):
        sim.control.lose_next_response("POST", "/api/v3/order", mode="error_503", after_commit=True)  # type: ignore[attr-defined]
        entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("51000",)))
        # The reply was a 503; the user stream may already have told us the outcome.
        assert service.executor.stats.unknown == 1
        assert entry.status in (OrderStatus.SUBMITTED_UNKNOWN, OrderStatus.FILLED)
        await until(lambda: journal.orders[entry.client_order_id].status is OrderStatus.FILLED)
        await until(lambda: service.executor.protection_deficit(entry.position_id, confirmed=True) == 0
                    and service.positions.get(entry.position_id) is not None)
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
        await until(lambda: service.executor.protection_deficit(entry.position_id, confirmed=True) == 0
                    and service.positions.get(entry.position_id) is not None)
        await sim.control.step(7)  # type: ignore[attr-defined]
        await until(lambda: service.positions.get(entry.position_id) is None)
        legs = {o.leg: o.status for o in journal.orders.values()}
        assert legs[OrderLeg.STOP] is OrderStatus.FILLED
        assert legs[OrderLeg.TAKE_PROFIT] in (OrderStatus.EXPIRED, OrderStatus.CANCELED)
        assert sim.control.open_orders(KEY) == []  # type: ignore[attr-defined]
        assert service.health()["stream_up"] is True
