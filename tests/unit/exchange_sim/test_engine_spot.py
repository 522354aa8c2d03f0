"""Matching engine, spot: fills, fees, balances, expiry, stops, OCO, errors."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import MatchingConfig, MatchingEngine, OrderEvent, OrderRequest
from ictbot.exchange_sim.engine.model import BalanceEvent, ListEvent
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.symbols import SPOT_TEMPLATES

SPOT = Market.SPOT
ACC = "alice"


def engine(**overrides: object) -> MatchingEngine:
    config = MatchingConfig(initial_balances={"USDT": D("100000"), "BTC": D("1")}, **overrides)  # type: ignore[arg-type]
    eng = MatchingEngine(config)
    eng.add_symbol(SPOT_TEMPLATES["BTCUSDT"], D("50000.00"))
    return eng


def req(**kw: object) -> OrderRequest:
    base: dict[str, object] = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": D("0.01000")}
    base.update(kw)
    if base["type"] in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") and "time_in_force" not in base:
        base["time_in_force"] = "GTC"
    return OrderRequest(**base)  # type: ignore[arg-type]


def executions(events: list[object]) -> list[tuple[str, str]]:
    return [(e.execution_type, e.order.status) for e in events if isinstance(e, OrderEvent)]


def test_market_buy_fills_at_the_ask_and_charges_the_fee_in_base() -> None:
    eng = engine()
    order, events = eng.place(ACC, SPOT, req(type="MARKET"), 1)
    assert order.status == "FILLED"
    assert order.cum_quote == D("500.0001")  # ask = bid + 1 tick = 50000.01
    trade = next(e.trade for e in events if isinstance(e, OrderEvent) and e.trade)
    assert (trade.commission, trade.commission_asset, trade.is_maker) == (D("0.00001000"), "BTC", False)
    assert executions(events) == [("NEW", "NEW"), ("TRADE", "FILLED")]
    assert isinstance(events[-1], BalanceEvent)
    balances = {b.asset: b for b in eng.spot_account(ACC).view()}
    assert balances["BTC"].free == D("1.00999")
    assert balances["USDT"].free == D("100000") - D("500.0001")
    assert balances["USDT"].locked == 0


def test_market_sell_fee_in_quote_and_slippage_moves_the_price_against_us() -> None:
    eng = engine(slippage_bps=D("10"))
    _, events = eng.place(ACC, SPOT, req(side="SELL", type="MARKET"), 1)
    trade = next(e.trade for e in events if isinstance(e, OrderEvent) and e.trade)
    assert trade.price == D("49950.00")  # 50000 × (1 − 10 bp), floored to the tick
    assert trade.commission_asset == "USDT"
    assert trade.commission == (trade.price * trade.qty * D("0.001")).quantize(D("0.00000001"))


def test_limit_rests_locks_quote_and_fills_only_when_traded_through() -> None:
    eng = engine()
    order, _ = eng.place(ACC, SPOT, req(price=D("49000.00")), 1)
    assert order.status == "NEW"
    assert eng.spot_account(ACC).locked["USDT"] == D("490.00000")
    assert eng.move_price("BTCUSDT", D("49000.00"), 2) == [] or eng.orders[(SPOT, "BTCUSDT", 1)].status == "NEW"
    assert eng.orders[(SPOT, "BTCUSDT", 1)].status == "NEW"  # a touch is not a fill
    events = eng.move_price("BTCUSDT", D("48999.99"), 3)
    filled = eng.orders[(SPOT, "BTCUSDT", 1)]
    assert filled.status == "FILLED" and filled.cum_quote == D("490.0000000")
    trade = next(e.trade for e in events if isinstance(e, OrderEvent) and e.trade)
    assert trade.is_maker and trade.price == D("49000.00")
    assert eng.spot_account(ACC).locked["USDT"] == 0


def test_fill_on_touch_option_fills_at_the_touch() -> None:
    eng = engine(fill_on_touch=True)
    eng.place(ACC, SPOT, req(price=D("49000.00")), 1)
    eng.move_price("BTCUSDT", D("49000.00"), 2)
    assert eng.orders[(SPOT, "BTCUSDT", 1)].status == "FILLED"


def test_participation_cap_gives_partial_fills_over_several_segments() -> None:
    eng = engine(participation=D("0.5"))
    eng.place(ACC, SPOT, req(side="SELL", price=D("51000.00"), quantity=D("0.03000")), 1)
    statuses = []
    for t, price in enumerate((D("51100"), D("50900"), D("51100"), D("50900"), D("51100")), start=2):
        eng.move_price("BTCUSDT", price, t, volume=D("0.02"))
        statuses.append(eng.orders[(SPOT, "BTCUSDT", 1)].status)
    order = eng.orders[(SPOT, "BTCUSDT", 1)]
    assert statuses[:3] == ["PARTIALLY_FILLED", "PARTIALLY_FILLED", "FILLED"]
    assert order.executed_qty == D("0.03") and len(eng.account_trades(ACC, SPOT, "BTCUSDT")) == 3


def test_ioc_fok_and_market_with_thin_depth_expire() -> None:
    eng = engine(level_notional=D("500"), depth_levels=2)  # 2 levels of ~0.00999 BTC
    ioc, events = eng.place(ACC, SPOT, req(price=D("50100.00"), time_in_force="IOC", quantity=D("0.05")), 1)
    assert ioc.status == "EXPIRED" and ioc.expiry_reason == "UNFILLED_IOC_QUANTITY_EXPIRED"
    assert D(0) < ioc.executed_qty < D("0.05")
    assert executions(events)[-1] == ("EXPIRED", "EXPIRED")
    fok, _ = eng.place(ACC, SPOT, req(price=D("50100.00"), time_in_force="FOK", quantity=D("0.05")), 2)
    assert fok.status == "EXPIRED" and fok.executed_qty == 0 and fok.expiry_reason == "UNFILLED_FOK_ORDER_EXPIRED"
    market, _ = eng.place(ACC, SPOT, req(type="MARKET", quantity=D("0.05")), 3)
    assert market.status == "EXPIRED" and market.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert eng.spot_account(ACC).locked["USDT"] == 0  # nothing stays reserved


def test_limit_maker_that_would_take_is_rejected_without_an_order() -> None:
    eng = engine()
    with pytest.raises(SimError) as caught:
        eng.place(ACC, SPOT, req(type="LIMIT_MAKER", price=D("50000.01")), 1)
    assert (caught.value.code, caught.value.msg) == (-2010, "Order would immediately match and take.")
    assert eng.orders == {}


def test_stop_that_would_trigger_immediately_is_rejected() -> None:
    eng = engine()
    with pytest.raises(SimError) as caught:
        eng.place(ACC, SPOT, req(side="SELL", type="STOP_LOSS", stop_price=D("50500.00")), 1)
    assert caught.value.msg == "Order would trigger immediately."


def test_stop_loss_limit_triggers_on_the_path_and_fills() -> None:
    eng = engine()
    order, _ = eng.place(ACC, SPOT, req(side="SELL", type="STOP_LOSS_LIMIT", stop_price=D("49500.00"),
                                        price=D("49400.00")), 1)
    assert order.working_time == -1 and not order.is_working
    eng.move_price("BTCUSDT", D("49600.00"), 2)
    assert eng.orders[(SPOT, "BTCUSDT", 1)].status == "NEW"
    eng.move_price("BTCUSDT", D("49300.00"), 3)  # through the stop (trigger) and the limit
    filled = eng.orders[(SPOT, "BTCUSDT", 1)]
    assert filled.status == "FILLED" and filled.triggered and filled.working_time == 3


def test_stop_loss_market_gap_fills_at_the_gap_price() -> None:
    eng = engine()
    eng.place(ACC, SPOT, req(side="SELL", type="STOP_LOSS", stop_price=D("49500.00")), 1)
    eng.move_price("BTCUSDT", D("48000.00"), 2, gap=True)
    trade = eng.account_trades(ACC, SPOT, "BTCUSDT")[0]
    assert trade.price == D("48000.00")


def test_insufficient_balance_and_duplicate_client_id() -> None:
    eng = engine()
    with pytest.raises(SimError) as caught:
        eng.place(ACC, SPOT, req(price=D("49000.00"), quantity=D("5")), 1)
    assert caught.value.msg == "Account has insufficient balance for requested action."
    eng.place(ACC, SPOT, req(price=D("49000.00"), client_order_id="my-1"), 1)
    with pytest.raises(SimError) as dup:
        eng.place(ACC, SPOT, req(price=D("49000.00"), client_order_id="my-1"), 2)
    assert (dup.value.code, dup.value.msg) == (-2010, "Duplicate order sent.")
    eng.move_price("BTCUSDT", D("48000.00"), 3)  # fills my-1
    again, _ = eng.place(ACC, SPOT, req(price=D("47000.00"), client_order_id="my-1"), 4)
    assert again.order_id == 2  # once filled, the same id creates a new order (Binance behaviour)


def test_cancel_unlocks_and_cancel_of_closed_order_is_unknown() -> None:
    eng = engine()
    eng.place(ACC, SPOT, req(price=D("49000.00"), client_order_id="c1"), 1)
    canceled, events = eng.cancel(ACC, SPOT, "BTCUSDT", 2, client_id="c1", new_client_id="x1")
    assert canceled.status == "CANCELED"
    event = next(e for e in events if isinstance(e, OrderEvent))
    assert event.cancel_client_order_id == "x1"
    assert eng.spot_account(ACC).locked["USDT"] == 0
    with pytest.raises(SimError) as caught:
        eng.cancel(ACC, SPOT, "BTCUSDT", 3, client_id="c1")
    assert (caught.value.code, caught.value.msg) == (-2011, "Unknown order sent.")


def test_oco_take_profit_fill_expires_the_stop_leg() -> None:
    eng = engine()
    above = req(side="SELL", type="LIMIT_MAKER", price=D("51000.00"))
    below = req(side="SELL", type="STOP_LOSS_LIMIT", stop_price=D("49000.00"), price=D("48900.00"))
    order_list, legs, events = eng.place_oco(ACC, "BTCUSDT", "SELL", D("0.01"), above, below, 1, "L1")
    assert [lg.status for lg in legs] == ["NEW", "NEW"]
    assert eng.spot_account(ACC).locked["BTC"] == D("0.01")  # one reservation for both legs
    events = eng.move_price("BTCUSDT", D("51000.01"), 2)
    tp, sl = (eng.orders[(SPOT, "BTCUSDT", lg.order_id)] for lg in legs)
    assert tp.status == "FILLED" and sl.status == "EXPIRED" and sl.expiry_reason == "OCO_TRIGGER"
    assert eng.lists[order_list.order_list_id].list_status_type == "ALL_DONE"
    assert any(isinstance(e, ListEvent) and e.order_list.list_order_status == "ALL_DONE" for e in events)
    assert eng.spot_account(ACC).locked["BTC"] == 0


def test_oco_stop_trigger_expires_the_limit_leg_and_sells() -> None:
    eng = engine()
    above = req(side="SELL", type="LIMIT_MAKER", price=D("51000.00"))
    below = req(side="SELL", type="STOP_LOSS", stop_price=D("49000.00"))
    _, legs, _ = eng.place_oco(ACC, "BTCUSDT", "SELL", D("0.01"), above, below, 1)
    eng.move_price("BTCUSDT", D("48800.00"), 2)
    tp, sl = (eng.orders[(SPOT, "BTCUSDT", lg.order_id)] for lg in legs)
    assert (tp.status, tp.expiry_reason) == ("EXPIRED", "OCO_TRIGGER")
    assert sl.status == "FILLED" and eng.account_trades(ACC, SPOT, "BTCUSDT")[0].price == D("49000.00")


def test_oco_with_wrong_price_relationship_is_rejected() -> None:
    eng = engine()
    above = req(side="SELL", type="LIMIT_MAKER", price=D("49000.00"))
    below = req(side="SELL", type="STOP_LOSS", stop_price=D("48000.00"))
    with pytest.raises(SimError) as caught:
        eng.place_oco(ACC, "BTCUSDT", "SELL", D("0.01"), above, below, 1)
    assert caught.value.msg == "The relationship of the prices for the orders is not correct."


def test_symbol_not_trading_refuses_new_orders_but_allows_cancel() -> None:
    eng = engine()
    eng.place(ACC, SPOT, req(price=D("49000.00"), client_order_id="keep"), 1)
    eng.set_status(SPOT, "BTCUSDT", "CANCEL_ONLY")
    with pytest.raises(SimError) as caught:
        eng.place(ACC, SPOT, req(price=D("49000.00")), 2)
    assert caught.value.msg == "Market is closed."
    assert eng.cancel(ACC, SPOT, "BTCUSDT", 3, client_id="keep")[0].status == "CANCELED"


def test_quote_order_qty_market_buy_spends_at_most_the_budget() -> None:
    eng = engine()
    order, _ = eng.place(ACC, SPOT, OrderRequest("BTCUSDT", "BUY", "MARKET", quote_order_qty=D("100")), 1)
    assert order.status == "FILLED" and order.cum_quote <= D("100") and order.orig_quote_order_qty == D("100")
    assert order.executed_qty == D("0.00199")


def test_max_num_orders_filter() -> None:
    eng = engine()
    spec = SPOT_TEMPLATES["BTCUSDT"]
    from dataclasses import replace

    eng.add_symbol(replace(spec, max_num_orders=2))
    for i in range(2):
        eng.place(ACC, SPOT, req(price=D("40000.00"), client_order_id=f"o{i}"), 1)
    with pytest.raises(SimError) as caught:
        eng.place(ACC, SPOT, req(price=D("40000.00")), 1)
    assert (caught.value.code, caught.value.msg) == (-2010, "Filter failure: MAX_NUM_ORDERS")
