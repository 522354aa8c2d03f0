"""Pure parts: client ids, order planning, report diffs."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.domain.order import (
    Fill,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderLeg,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    client_order_id,
)
from ictbot.domain.signal import EntryType
from ictbot.execution import ExecutionConfig
from ictbot.execution.ids import entry_client_id, is_ours, parse_client_id, position_id_for
from ictbot.execution.planning import entry_order, entry_problems, futures_protection, split_tranches, spot_protection
from ictbot.execution.reports import adopted_order, events_for, new_fills
from ictbot.ports.venue import VenueOrderReport
from tests.unit.execution.fake_venue import futures_btc, spot_btc
from tests.unit.execution.harness import make_intent

D = Decimal
CONFIG = ExecutionConfig()


def test_ids_are_deterministic_binance_valid_and_name_their_position() -> None:
    cid = entry_client_id("s", "sig")
    assert cid == client_order_id("s", "sig", OrderLeg.ENTRY, 0) == entry_client_id("s", "sig")
    assert len(cid) <= 36 and is_ours(cid)
    assert parse_client_id(cid) == (position_id_for("s", "sig"), OrderLeg.ENTRY, 0)
    stop = f"{position_id_for('s', 'sig')}-S812345"
    assert len(stop) <= 36 and parse_client_id(stop) == (position_id_for("s", "sig"), OrderLeg.STOP, 812345)
    assert not is_ours("web_abc") and parse_client_id("ict-xyz-E0") is None


def test_entry_order_rounds_to_filters_and_checks_them() -> None:
    intent = make_intent(qty="0.123456", entry_type=EntryType.LIMIT, entry="49500.005")
    order = entry_order(intent, spot_btc(), CONFIG, 1)
    assert order.quantity == D("0.12345") and order.price == D("49500.00")
    assert order.type is OrderType.LIMIT and order.time_in_force is TimeInForce.GTC
    assert entry_problems(order, spot_btc(), None) == []
    maker = entry_order(intent, spot_btc(), ExecutionConfig(limit_entry_type=OrderType.LIMIT_MAKER), 1)
    assert maker.type is OrderType.LIMIT_MAKER and maker.time_in_force is None
    short = entry_order(make_intent(direction=make_intent().signal.direction.SHORT), spot_btc(), CONFIG, 1)
    assert "spot cannot open a short position" in entry_problems(short, spot_btc(), D("50000"))


def test_spot_protection_builds_oco_pairs_per_target_tranche() -> None:
    sets = spot_protection(position_id="ict-p", symbol="BTCUSDT", long=True, qty=D("0.1"), stop_price=D("49000"),
                           targets=(D("51000"), D("52000"), D("53000")), instrument=spot_btc(), config=CONFIG,
                           attempt=7, now_ms=1)
    assert [s.orders[0].quantity for s in sets] == [D("0.03333"), D("0.03333"), D("0.03334")]
    assert [s.list_id for s in sets] == ["ict-p-O7", "ict-p-O8", "ict-p-O9"]
    stop, target = sets[0].orders
    assert (stop.type, stop.side, stop.stop_price, stop.price) == (
        OrderType.STOP_LOSS_LIMIT, OrderSide.SELL, D("49000"), D("48755.00"))
    assert (target.type, target.price, target.leg) == (OrderType.LIMIT_MAKER, D("51000"), OrderLeg.TAKE_PROFIT)
    tp_limit = spot_protection(position_id="ict-p", symbol="BTCUSDT", long=True, qty=D("0.1"),
                               stop_price=D("49000"), targets=(D("51000"),), instrument=spot_btc(),
                               config=ExecutionConfig(spot_target_type=OrderType.TAKE_PROFIT_LIMIT), attempt=1,
                               now_ms=1)
    assert tp_limit[0].orders[1].type is OrderType.TAKE_PROFIT_LIMIT and tp_limit[0].orders[1].stop_price == D("51000")


def test_tranches_too_small_to_trade_are_merged() -> None:
    assert split_tranches(D("0.0002"), 3, spot_btc(), D("49000")) == [D("0.0002")]


def test_futures_protection_is_reduce_only_stop_market_and_take_profit_market() -> None:
    sets = futures_protection(position_id="ict-p", symbol="BTCUSDT", long=False, stop_qty=D("0.01"),
                              target_qty=D("0.01"), stop_price=D("51000.04"), targets=(D("48000"),),
                              instrument=futures_btc(), attempt=3, now_ms=1)
    orders = [s.orders[0] for s in sets]
    assert [(o.type, o.side, o.reduce_only, o.stop_price, o.market) for o in orders] == [
        (OrderType.STOP_MARKET, OrderSide.BUY, True, D("51000.0"), Market.USDM),
        (OrderType.TAKE_PROFIT_MARKET, OrderSide.BUY, True, D("48000.0"), Market.USDM)]


def _order_and_fill() -> tuple[Order, Fill]:
    order = entry_order(make_intent(entry_type=EntryType.LIMIT, entry="49500"), spot_btc(), CONFIG, 1)
    fill = Fill("t1", order.client_order_id, "BTCUSDT", OrderSide.BUY, D("49500"), D("0.04"), D("0"), "USDT", 5)
    return order, fill


def test_report_diff_is_idempotent_and_ignores_stale_reports() -> None:
    order, fill = _order_and_fill()
    report = VenueOrderReport(order.client_order_id, "BTCUSDT", OrderStatus.PARTIALLY_FILLED,
                              exchange_order_id="9", executed_qty=D("0.04"), fills=(fill,), time=5)
    diff = events_for(order, report, new_fills(order, report))
    assert diff.events == (OrderAccepted("9", 5), OrderFilled(fill))
    applied = order
    for event in diff.events:
        applied = applied.apply(event)
    assert events_for(applied, report, new_fills(applied, report)).events == ()
    stale = replace(report, status=OrderStatus.NEW, executed_qty=D(0), fills=())
    assert events_for(applied, stale, []).events == ()
    canceled = replace(report, status=OrderStatus.CANCELED, fills=())
    assert events_for(applied, canceled, []).events == (OrderCanceled(5, ""),)


def test_a_terminal_order_reported_open_is_a_problem() -> None:
    order, _ = _order_and_fill()
    gone = order.apply(OrderAccepted("9", 1)).apply(OrderCanceled(2))
    report = VenueOrderReport(gone.client_order_id, "BTCUSDT", OrderStatus.NEW, exchange_order_id="9")
    assert events_for(gone, report, []).problem


def test_adoption_needs_the_terms_of_an_open_order() -> None:
    cid = f"{position_id_for('s', 'x')}-S800001"
    open_report = VenueOrderReport(cid, "BTCUSDT", OrderStatus.NEW, exchange_order_id="1", side=OrderSide.SELL,
                                   type=OrderType.STOP_LOSS_LIMIT, quantity=D("0.1"), stop_price=D("49000"),
                                   price=D("48800"))
    adopted = adopted_order(open_report, Market.SPOT, 1)
    assert adopted is not None and adopted.leg is OrderLeg.STOP and adopted.position_id == position_id_for("s", "x")
    assert adopted.status is OrderStatus.SUBMITTED_UNKNOWN
    assert adopted_order(replace(open_report, quantity=None), Market.SPOT, 1) is None
    assert adopted_order(replace(open_report, client_order_id="web-1"), Market.SPOT, 1) is None
