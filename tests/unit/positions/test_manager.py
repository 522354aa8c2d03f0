"""PositionManager: fills → positions, idempotent, persisted, published."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.market import Market
from ictbot.domain.order import Fill, OrderSide
from ictbot.ports.clock import ManualClock
from ictbot.positions import PositionAlreadyClosedError, PositionManager, PositionNotFoundError
from tests.unit.execution.fake_venue import futures_btc, spot_btc
from tests.unit.execution.memory_repos import MemoryFills, MemoryPositions

D = Decimal


def fill(trade: str, side: OrderSide, qty: str, price: str, fee: str = "0", fee_asset: str = "USDT") -> Fill:
    return Fill(trade_id=trade, client_order_id="c", symbol="BTCUSDT", side=side, price=D(price), qty=D(qty),
                fee=D(fee), fee_asset=fee_asset, time=int(trade))


async def started() -> tuple[PositionManager, MemoryPositions, MemoryFills, list[tuple[Topic, Any]], EventBus]:
    bus = EventBus()
    events: list[tuple[Topic, Any]] = []

    def record(envelope: Envelope) -> None:
        events.append((envelope.topic, envelope.payload))

    bus.subscribe(Topic.POSITION_UPDATED, record)
    bus.subscribe(Topic.POSITION_CLOSED, record)
    await bus.start()
    repo, fills = MemoryPositions(), MemoryFills()
    return PositionManager(bus, repo, fills, ManualClock(1000)), repo, fills, events, bus


async def test_long_round_trip_realizes_pnl_net_of_fees_and_publishes_close() -> None:
    manager, repo, fills, events, bus = await started()
    await manager.apply_fill("p1", fill("1", OrderSide.BUY, "0.1", "50000", "5"), spot_btc(), stop_loss=D("49000"))
    await manager.apply_fill("p1", fill("2", OrderSide.SELL, "0.1", "51000", "5.1"), spot_btc())
    await bus.wait_idle()
    position = repo.positions["p1"]
    assert not position.is_open and position.closed_at == 2
    assert position.realized_pnl == D("100") - D("10.1")
    assert manager.get("p1") is None
    assert [t for t, _ in events] == [Topic.POSITION_UPDATED, Topic.POSITION_CLOSED]
    assert set(fills.fills) == {"1", "2"}


async def test_a_replayed_fill_changes_nothing() -> None:
    manager, _repo, _, events, bus = await started()
    first = await manager.apply_fill("p1", fill("1", OrderSide.BUY, "0.1", "50000"), spot_btc())
    again = await manager.apply_fill("p1", fill("1", OrderSide.BUY, "0.1", "50000"), spot_btc())
    await bus.wait_idle()
    assert again == first and again.qty == D("0.1")
    assert len(events) == 1


async def test_short_on_futures_with_funding_and_mark_to_market() -> None:
    manager, _repo, _, events, bus = await started()
    await manager.apply_fill("p1", fill("1", OrderSide.SELL, "0.01", "50000"), futures_btc())
    position = manager.get("p1")
    assert position is not None and position.market is Market.USDM and position.qty == D("-0.01")
    await manager.apply_funding("BTCUSDT", D("-0.25"))
    await manager.mark("BTCUSDT", D("49000"))
    await bus.wait_idle()
    position = manager.get("p1")
    assert position is not None and position.funding == D("-0.25")
    assert position.unrealized_pnl(D("49000")) == D("10")
    assert events[-1][1].mark_price == D("49000")


async def test_require_open_distinguishes_unknown_and_closed() -> None:
    manager, _repo, _, _, _ = await started()
    with pytest.raises(PositionNotFoundError):
        await manager.require_open("missing")
    await manager.apply_fill("p1", fill("1", OrderSide.BUY, "0.1", "50000"), spot_btc())
    await manager.apply_fill("p1", fill("2", OrderSide.SELL, "0.1", "50000"), spot_btc())
    with pytest.raises(PositionAlreadyClosedError):
        await manager.require_open("p1")


async def test_load_restores_open_positions_and_dust_write_off_closes() -> None:
    manager, repo, _, _, _ = await started()
    await manager.apply_fill("p1", fill("1", OrderSide.BUY, "0.00001", "50000"), spot_btc())
    fresh = PositionManager(EventBus(validate_payloads=True), repo, MemoryFills(), ManualClock(5))
    assert [p.id for p in await fresh.load()] == ["p1"]
    await manager.write_off_dust("p1", "too small")
    assert not repo.positions["p1"].is_open and repo.positions["p1"].closed_at == 1000
