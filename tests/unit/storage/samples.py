"""Domain objects with every field set to something non-default (round-trip fixtures)."""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.domain.order import (
    Fill,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderLeg,
    OrderSide,
    OrderType,
    TimeInForce,
    client_order_id,
)
from ictbot.domain.position import Position

D = Decimal


def sample_fill(cid: str, trade_id: str, qty: str, fee: str, fee_asset: str, time: int) -> Fill:
    return Fill(
        trade_id=trade_id, client_order_id=cid, symbol="BTCUSDT", side=OrderSide.BUY, price=D("42000.10"),
        qty=D(qty), fee=D(fee), fee_asset=fee_asset, time=time, is_maker=True,
    )


def sample_order() -> Order:
    """A stop-limit order accepted and partly filled twice, with fees in two assets."""
    cid = client_order_id("ict-ob", "sig-1", OrderLeg.STOP, attempt=2)
    order = Order(
        client_order_id=cid, symbol="BTCUSDT", side=OrderSide.BUY, type=OrderType.STOP_LOSS_LIMIT,
        quantity=D("0.00300000"), created_at=1_700_000_000_123, price=D("42000.10"), stop_price=D("41999.5"),
        time_in_force=TimeInForce.GTC, market=Market.USDM, reduce_only=True, strategy_id="ict-ob",
        signal_id="sig-1", leg=OrderLeg.STOP, position_id="pos-7", list_id="list-3", reason="journaled",
    )
    order = order.apply(OrderAccepted(exchange_order_id="987654321", time=1_700_000_000_200))
    order = order.apply(OrderFilled(sample_fill(cid, "t-1", "0.001", "0.0000010", "BTC", 1_700_000_000_300)))
    return order.apply(OrderFilled(sample_fill(cid, "t-2", "0.00100000", "0.0021", "BNB", 1_700_000_000_400)))


def sample_position() -> Position:
    return Position(
        id="pos-7", symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", market=Market.USDM,
        strategy_id="ict-ob", qty=D("-0.0020"), avg_entry=D("42000.10"), realized_pnl=D("-1.2345678901234567890"),
        fees_quote=D("0.042"), other_fees=(("BNB", D("0.0021")), ("ETH", D("1E-8"))), funding=D("-0.5"),
        trade_ids=frozenset({"t-1", "t-2", "t-3"}), opened_at=1_700_000_000_300, closed_at=None,
        entry_qty_total=D("0.0030"), stop_loss=D("43000"), take_profits=(D("41000.5"), D("40000.00")),
    )
