"""PositionMonitor: stop moves and emergency market close when protection does not execute."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.bus import EventBus, Topic
from ictbot.domain.candle import Candle
from ictbot.domain.events import KlineUpdated
from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.position import Position
from ictbot.domain.timeframe import Timeframe
from ictbot.execution import ExecutionConfig
from ictbot.ports.clock import ManualClock
from ictbot.positions import StopRules
from ictbot.positions.monitor import PositionMonitor
from tests.unit.execution.harness import make_harness, make_intent
from tests.unit.risk.support import open_position

D = Decimal


def candle(close: str) -> Candle:
    price = D(close)
    return Candle("BTCUSDT", Timeframe.M1, 0, price, price, price, price, D(1), closed=False)


async def test_breakeven_rule_replaces_the_oco_with_a_stop_at_entry() -> None:
    h = await make_harness(stop_rules=StopRules(breakeven_at_r=D(1)))
    entry = await h.executor.submit_intent(make_intent(stop="49000", targets=("53000",)))
    await h.settle()
    await h.bus.publish(Topic.KLINE_UPDATED, KlineUpdated(candle("51000")))
    await h.bus.wait_idle()
    await h.settle()

    stops = [o.order for o in h.venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
    assert [s.stop_price for s in stops] == [D("50000")]
    position = h.positions.get(entry.position_id)
    assert position is not None and position.stop_loss == D("50000")
    assert h.executor.protection_deficit(entry.position_id) == 0
    targets = [o.order for o in h.venue.open_venue_orders() if o.order.leg is OrderLeg.TAKE_PROFIT]
    assert [t.price for t in targets] == [D("53000")]


async def test_a_stop_breached_but_not_filled_is_closed_at_market_after_the_grace_period() -> None:
    config = ExecutionConfig(background_tasks=False, breach_grace_s=5)
    h = await make_harness(config=config)
    entry = await h.executor.submit_intent(make_intent(stop="49000"))
    await h.settle()
    h.venue.triggers_enabled = False  # the stop-limit skipped over: nothing fills
    h.venue.set_price("BTCUSDT", D("48500"))

    await h.service.monitor.on_price("BTCUSDT", D("48500"))
    await h.settle()
    assert h.positions.get(entry.position_id) is not None  # within the grace period: wait
    h.clock.advance(6)
    await h.service.monitor.on_price("BTCUSDT", D("48400"))
    await h.settle()

    assert h.positions.get(entry.position_id) is None
    exits = [o for o in h.journal.orders.values() if o.leg is OrderLeg.EXIT]
    assert len(exits) == 1 and exits[0].status is OrderStatus.FILLED
    assert h.venue.open_venue_orders() == []


class _OpenBook:
    """The manager as the monitor reads it: the open positions only."""

    def __init__(self) -> None:
        self.open: dict[str, Position] = {}

    async def mark(self, symbol: str, price: Decimal, market: object = None) -> list[Position]:
        return [p for p in self.open.values() if p.symbol == symbol]

    def get(self, position_id: str) -> Position | None:
        return self.open.get(position_id)

    def open_positions(self, symbol: str | None = None, market: object = None) -> list[Position]:
        return list(self.open.values())


class _NoMoves:
    async def move_stop(self, position_id: str, new_stop: Decimal) -> None: ...

    async def close_position(self, position_id: str, reason: str = "") -> None: ...


async def test_initial_risk_is_forgotten_when_a_position_closes_and_kept_while_it_is_open() -> None:
    # before: one entry per position ever traded, for ever
    book = _OpenBook()
    monitor = PositionMonitor(EventBus(), book, _NoMoves(), ManualClock())  # type: ignore[arg-type]
    kept = replace(open_position(pid="kept"), stop_loss=D("59000"))
    book.open["kept"] = kept
    await monitor.on_price("BTCUSDT", D("60000"))
    book.open["kept"] = replace(kept, stop_loss=D("59800"))  # the stop moved: the risk must not follow
    for n in range(300):
        book.open[f"p{n}"] = replace(open_position(pid=f"p{n}"), stop_loss=D("59500"))
        await monitor.on_price("BTCUSDT", D("60000"))
        del book.open[f"p{n}"]  # closed
        await monitor.on_price("BTCUSDT", D("60010"))
        assert set(monitor._initial_risk) == {"kept"}
    assert monitor._initial_risk["kept"] == D("1000")
