from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.domain.errors import DuplicateFillError, IllegalTransitionError
from ictbot.domain.order import (
    Fill,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderLeg,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitUnknown,
    OrderType,
    client_order_id,
    legal_sources,
)

D = Decimal


def new_order(qty: str = "1.0") -> Order:
    return Order("cid-1", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D(qty), created_at=0, price=D("100"))


def fill(trade_id: str, qty: str, price: str = "100", fee: str = "0.1") -> Fill:
    return Fill(trade_id, "cid-1", "BTCUSDT", OrderSide.BUY, D(price), D(qty), D(fee), "USDT", time=5)


def in_state(status: OrderStatus) -> Order:
    order = new_order()
    path = {
        OrderStatus.PENDING_SUBMIT: [],
        OrderStatus.SUBMITTED_UNKNOWN: [OrderSubmitUnknown("timeout", 1)],
        OrderStatus.NEW: [OrderAccepted("1", 1)],
        OrderStatus.PARTIALLY_FILLED: [OrderAccepted("1", 1), OrderFilled(fill("t0", "0.4"))],
        OrderStatus.FILLED: [OrderAccepted("1", 1), OrderFilled(fill("t0", "1.0"))],
        OrderStatus.CANCELED: [OrderAccepted("1", 1), OrderCanceled(2)],
        OrderStatus.EXPIRED: [OrderAccepted("1", 1), OrderExpired(2)],
        OrderStatus.REJECTED: [OrderRejected("no", 1, -2010)],
    }[status]
    for event in path:
        order = order.apply(event)
    assert order.status is status
    return order


EVENTS = {
    "accepted": (OrderAccepted, lambda: OrderAccepted("9", 3)),
    "unknown": (OrderSubmitUnknown, lambda: OrderSubmitUnknown("timeout", 3)),
    "rejected": (OrderRejected, lambda: OrderRejected("insufficient", 3, -2010)),
    "filled": (OrderFilled, lambda: OrderFilled(fill("t9", "0.1"))),
    "canceled": (OrderCanceled, lambda: OrderCanceled(3)),
    "expired": (OrderExpired, lambda: OrderExpired(3)),
}


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("event_name", list(EVENTS))
def test_every_state_event_pair_is_legal_exactly_when_the_table_says(status: OrderStatus, event_name: str) -> None:
    event_type, make = EVENTS[event_name]
    order = in_state(status)
    if status in legal_sources(event_type):
        assert order.apply(make()) is not order
    else:
        with pytest.raises(IllegalTransitionError):
            order.apply(make())


def test_terminal_states_accept_nothing() -> None:
    for status in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
        assert status.is_terminal
        for _, make in EVENTS.values():
            with pytest.raises(IllegalTransitionError):
                in_state(status).apply(make())


def test_partial_then_full_fill_accumulates_quantity_price_and_fees() -> None:
    order = in_state(OrderStatus.NEW)
    order = order.apply(OrderFilled(fill("a", "0.25", "100", "0.01")))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    order = order.apply(OrderFilled(fill("b", "0.75", "104", "0.03")))
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == D("1.00")
    assert order.average_price == D("103")
    assert order.fee_in("USDT") == D("0.04")
    assert order.trade_ids == {"a", "b"}


def test_duplicate_trade_id_is_rejected_and_overfill_is_illegal() -> None:
    order = in_state(OrderStatus.NEW).apply(OrderFilled(fill("a", "0.5")))
    with pytest.raises(DuplicateFillError):
        order.apply(OrderFilled(fill("a", "0.5")))
    with pytest.raises(IllegalTransitionError):
        order.apply(OrderFilled(fill("b", "0.6")))


def test_unknown_outcome_can_resolve_to_accepted_filled_or_rejected() -> None:
    unknown = in_state(OrderStatus.SUBMITTED_UNKNOWN)
    assert unknown.apply(OrderAccepted("5", 9)).status is OrderStatus.NEW
    assert unknown.apply(OrderRejected("not found", 9)).status is OrderStatus.REJECTED
    assert unknown.apply(OrderFilled(fill("x", "1.0"))).status is OrderStatus.FILLED


def test_fill_for_another_order_is_refused() -> None:
    stray = Fill("z", "other", "BTCUSDT", OrderSide.BUY, D("1"), D("0.1"), D("0"), "USDT", 1)
    with pytest.raises(IllegalTransitionError):
        in_state(OrderStatus.NEW).apply(OrderFilled(stray))


def test_apply_never_mutates_the_original() -> None:
    order = new_order()
    order.apply(OrderAccepted("1", 1))
    assert order.status is OrderStatus.PENDING_SUBMIT


def test_client_order_id_is_deterministic_and_binance_valid() -> None:
    first = client_order_id("strategy_a", "sig123", OrderLeg.ENTRY, 0)
    assert first == client_order_id("strategy_a", "sig123", OrderLeg.ENTRY, 0)
    assert first != client_order_id("strategy_a", "sig123", OrderLeg.STOP, 0)
    assert first != client_order_id("strategy_a", "sig123", OrderLeg.ENTRY, 1)
    assert first != client_order_id("strategy_b", "sig123", OrderLeg.ENTRY, 0)
    assert len(first) <= 36
    assert all(ch.isalnum() or ch in "-_" for ch in first)
