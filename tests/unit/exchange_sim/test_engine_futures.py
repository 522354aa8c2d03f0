"""Matching engine, USD-M: leverage, margin, reduceOnly, PnL, algo orders, funding."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import AlgoEvent, MatchingConfig, MatchingEngine, OrderRequest
from ictbot.exchange_sim.engine.model import BalanceEvent
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.symbols import FUTURES_TEMPLATES

USDM = Market.USDM
ACC = "bob"


def engine() -> MatchingEngine:
    eng = MatchingEngine(MatchingConfig(futures_initial_balances={"USDT": D("1000")}))
    eng.add_symbol(FUTURES_TEMPLATES["BTCUSDT"], D("50000.00"))
    return eng


def market(side: str, qty: str, reduce_only: bool = False) -> OrderRequest:
    return OrderRequest("BTCUSDT", side, "MARKET", quantity=D(qty), reduce_only=reduce_only)


def test_long_then_close_realises_pnl_and_pays_taker_fees() -> None:
    eng = engine()
    eng.place(ACC, USDM, market("BUY", "0.010"), 1)
    position = eng.positions(ACC)[0]
    assert position.position_amt == D("0.010") and position.entry_price == D("50000.01")
    eng.move_price("BTCUSDT", D("51000.00"), 2)
    assert eng.positions(ACC)[0].unrealized_pnl == (D("51000.00") - D("50000.01")) * D("0.010")
    _, events = eng.place(ACC, USDM, market("SELL", "0.010", reduce_only=True), 3)
    trade = eng.account_trades(ACC, USDM, "BTCUSDT")[-1]
    assert trade.realized_pnl == (D("51000.00") - D("50000.01")) * D("0.010")
    fees = sum((t.commission for t in eng.account_trades(ACC, USDM, "BTCUSDT")), D(0))
    assert eng.futures_account(ACC).wallet["USDT"] == D("1000") + trade.realized_pnl - fees
    update = next(e for e in events if isinstance(e, BalanceEvent))
    assert update.reason == "ORDER" and update.positions[0].position_amt == 0


def test_reduce_only_cannot_open_or_increase() -> None:
    eng = engine()
    with pytest.raises(SimError) as caught:
        eng.place(ACC, USDM, market("SELL", "0.010", reduce_only=True), 1)
    assert (caught.value.code, caught.value.msg) == (-2022, "ReduceOnly Order is rejected.")


def test_margin_depends_on_leverage() -> None:
    eng = engine()
    eng.set_leverage(ACC, "BTCUSDT", 1)
    with pytest.raises(SimError) as caught:
        eng.place(ACC, USDM, market("BUY", "0.030"), 1)  # 1500 USDT notional at 1×
    assert (caught.value.code, caught.value.msg) == (-2019, "Margin is insufficient.")
    eng.set_leverage(ACC, "BTCUSDT", 10)
    assert eng.place(ACC, USDM, market("BUY", "0.030"), 2)[0].status == "FILLED"
    with pytest.raises(SimError) as same:
        eng.set_margin_type(ACC, "BTCUSDT", "CROSSED")
    assert same.value.code == -4046


def test_algo_stop_market_triggers_closes_the_position_and_reports_each_stage() -> None:
    eng = engine()
    eng.place(ACC, USDM, market("BUY", "0.010"), 1)
    stop = OrderRequest("BTCUSDT", "SELL", "STOP_MARKET", close_position=True)
    algo, events = eng.place_algo(ACC, stop, D("49000.00"), "CONTRACT_PRICE", 2, "sl-1")
    assert algo.algo_status == "NEW" and isinstance(events[0], AlgoEvent)
    with pytest.raises(SimError) as immediate:
        eng.place_algo(ACC, stop, D("50500.00"), "CONTRACT_PRICE", 2)
    assert immediate.value.code == -2021
    events = eng.move_price("BTCUSDT", D("48500.00"), 3)
    statuses = [e.algo.algo_status for e in events if isinstance(e, AlgoEvent)]
    assert statuses == ["TRIGGERING", "TRIGGERED", "FINISHED"]
    assert eng.positions(ACC)[0].position_amt == 0
    child = eng.find_order(ACC, USDM, "BTCUSDT", client_id="sl-1")
    assert child is not None and child.status == "FILLED" and child.orig_type == "STOP_MARKET"


def test_funding_fee_moves_the_wallet_by_rate_times_notional() -> None:
    eng = engine()
    eng.place(ACC, USDM, market("BUY", "0.010"), 1)
    before = eng.futures_account(ACC).wallet["USDT"]
    events = eng.apply_funding("BTCUSDT", D("0.0001"), 2)
    after = eng.futures_account(ACC).wallet["USDT"]
    assert after - before == -(D("0.010") * D("50000.00") * D("0.0001"))
    assert isinstance(events[0], BalanceEvent) and events[0].reason == "FUNDING_FEE"
