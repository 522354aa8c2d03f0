"""PositionMonitor: stop moves and emergency market close when protection does not execute."""

from __future__ import annotations

from decimal import Decimal

from ictbot.bus import Topic
from ictbot.domain.candle import Candle
from ictbot.domain.events import KlineUpdated
from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.timeframe import Timeframe
from ictbot.execution import ExecutionConfig
from ictbot.positions import StopRules
from tests.unit.execution.harness import make_harness, make_intent

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
