"""PositionManager on the SQLite repositories: positions and fills survive a new process."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ictbot.adapters.storage import Database, SqlFillRepository, SqlPositionRepository, sqlite_url
from ictbot.bus import EventBus
from ictbot.domain.order import Fill, OrderSide
from ictbot.ports.clock import ManualClock
from ictbot.positions import PositionManager
from tests.unit.execution.fake_venue import futures_btc, spot_btc

D = Decimal


def fill(trade: str, side: OrderSide, qty: str, price: str, fee: str, asset: str) -> Fill:
    return Fill(trade, "ict-c", "BTCUSDT", side, D(price), D(qty), D(fee), asset, int(trade))


async def test_positions_and_fills_are_durable_and_replays_are_ignored(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    db = Database(url)
    db.upgrade()
    bus = EventBus()
    await bus.start()
    manager = PositionManager(bus, SqlPositionRepository(db), SqlFillRepository(db), ManualClock(0))
    await manager.apply_fill(
        "p-spot",
        fill("1", OrderSide.BUY, "0.1", "50000", "0.0001", "BTC"),
        spot_btc(),
        stop_loss=D("49000"),
        take_profits=(D("52000"), D("53000")),
    )
    await manager.apply_fill("p-spot", fill("2", OrderSide.BUY, "0.1", "50000", "0.01", "BNB"), spot_btc())
    await manager.apply_fill("p-fut", fill("3", OrderSide.SELL, "0.01", "50000", "0.2", "USDT"), futures_btc())
    await manager.apply_funding("BTCUSDT", D("0.5"))
    await bus.wait_idle()
    await bus.stop()
    await db.close()

    db2 = Database(url)
    again = PositionManager(EventBus(), SqlPositionRepository(db2), SqlFillRepository(db2), ManualClock(0))
    loaded = {p.id: p for p in await again.load()}
    spot = loaded["p-spot"]
    assert spot.qty == D("0.1999") and spot.stop_loss == D("49000")
    assert spot.take_profits == (D("52000"), D("53000"))
    assert spot.other_fees == (("BNB", D("0.01")),)
    futures = loaded["p-fut"]
    assert futures.qty == D("-0.01") and futures.funding == D("0.5")
    assert spot.funding == 0  # funding is a futures matter
    replay = await again.apply_fill("p-spot", fill("1", OrderSide.BUY, "0.1", "50000", "0.0001", "BTC"), spot_btc())
    assert replay == spot
    assert len(await SqlFillRepository(db2).recent(limit=10)) == 3
    await db2.close()
