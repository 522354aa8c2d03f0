from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.domain.errors import DuplicateFillError
from ictbot.domain.order import Fill, OrderSide
from ictbot.domain.position import Position, PositionSide

D = Decimal


def fill(tid: str, side: OrderSide, qty: str, price: str, fee: str = "0", asset: str = "USDT", t: int = 1) -> Fill:
    return Fill(tid, "c", "BTCUSDT", side, D(price), D(qty), D(fee), asset, t)


def flat() -> Position:
    return Position("p1", "BTCUSDT", "BTC", "USDT")


def test_long_round_trip_realizes_pnl_net_of_quote_fees() -> None:
    pos = flat().apply(fill("1", OrderSide.BUY, "2", "100", "0.2"))
    assert pos.side is PositionSide.LONG and pos.avg_entry == D("100")
    pos = pos.apply(fill("2", OrderSide.BUY, "2", "110", "0.22"))
    assert pos.qty == D("4") and pos.avg_entry == D("105")
    assert pos.unrealized_pnl(D("120")) == D("60")
    pos = pos.apply(fill("3", OrderSide.SELL, "4", "120", "0.48", t=9))
    assert pos.side is PositionSide.FLAT and pos.is_closed and pos.closed_at == 9
    assert pos.realized_pnl == D("60") - D("0.2") - D("0.22") - D("0.48")
    assert pos.avg_entry == D("105"), "a closed position remembers its entry for trade reports"
    reopened = pos.apply(fill("4", OrderSide.BUY, "1", "200"))
    assert reopened.avg_entry == D("200") and reopened.closed_at is None
    assert pos.fees_quote == D("0.90")


def test_short_gains_when_price_falls() -> None:
    pos = flat().apply(fill("1", OrderSide.SELL, "1", "100"))
    assert pos.side is PositionSide.SHORT and pos.qty == D("-1")
    assert pos.unrealized_pnl(D("90")) == D("10")
    pos = pos.apply(fill("2", OrderSide.BUY, "1", "90"))
    assert pos.realized_pnl == D("10")


def test_base_asset_fee_reduces_quantity_received() -> None:
    pos = flat().apply(fill("1", OrderSide.BUY, "1", "100", "0.001", asset="BTC"))
    assert pos.qty == D("0.999")
    assert pos.fees_quote == D("0.100")


def test_foreign_fee_asset_is_tracked_separately() -> None:
    pos = flat().apply(fill("1", OrderSide.BUY, "1", "100", "0.01", asset="BNB"))
    assert pos.qty == D("1") and pos.other_fees == (("BNB", D("0.01")),)


def test_flip_through_zero_opens_remainder_at_fill_price() -> None:
    pos = flat().apply(fill("1", OrderSide.BUY, "1", "100"))
    pos = pos.apply(fill("2", OrderSide.SELL, "3", "110"))
    assert pos.qty == D("-2") and pos.avg_entry == D("110") and pos.realized_pnl == D("10")


def test_partial_close_keeps_average_entry() -> None:
    pos = flat().apply(fill("1", OrderSide.BUY, "2", "100")).apply(fill("2", OrderSide.SELL, "0.5", "120"))
    assert pos.qty == D("1.5") and pos.avg_entry == D("100") and pos.realized_pnl == D("10.0")
    assert pos.closed_at is None


def test_duplicate_trade_id_is_rejected() -> None:
    pos = flat().apply(fill("1", OrderSide.BUY, "1", "100"))
    with pytest.raises(DuplicateFillError):
        pos.apply(fill("1", OrderSide.BUY, "1", "100"))


def test_fill_for_another_symbol_is_rejected() -> None:
    other = Fill("9", "c", "ETHUSDT", OrderSide.BUY, D("1"), D("1"), D("0"), "USDT", 1)
    with pytest.raises(ValueError):
        flat().apply(other)
