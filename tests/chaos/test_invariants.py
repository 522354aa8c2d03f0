"""Each invariant catches the fault it is meant to catch (and passes a consistent view)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.chaos.invariants import BotView, Evidence, Limits, Truth, check_all

D = Decimal
ENTRY, STOP = "ict-p1-E0", "ict-p1-S1"
TRUTH = Truth(
    orders=[{"clientOrderId": ENTRY, "orderId": 1}, {"clientOrderId": STOP, "orderId": 2}],
    trades=[{"id": 7, "orderId": 1, "quoteQty": "5000"}],
    balances={"USDT": D("5000"), "BTC": D("0.12987")},
    price=D("38500"),
)
BOT = BotView(
    orders={ENTRY: {"leg": "ENTRY", "signal_id": "s1", "status": "FILLED"},
            STOP: {"leg": "STOP", "signal_id": "s1", "status": "NEW"}},
    fill_ids=[("7", ENTRY)], open_qty=D("0.12987"), closed_positions=0, mark_price=D("38500"),
    equity=D("5000") + D("0.12987") * D("38500"), trading_state="ACTIVE", state_reason="",
)
LIMITS = Limits(D(10_000), D("0.001"), D(20), D(20), stop_grace_s=30.0)


def failures(truth: Truth = TRUTH, bot: BotView = BOT, unprotected_s: float = 0.0) -> set[str]:
    return {name for name, problem in check_all(Evidence(truth, bot, LIMITS, unprotected_s)).items() if problem}


def test_a_consistent_view_passes_every_invariant() -> None:
    assert failures() == set()


def test_an_exchange_order_the_bot_does_not_know_is_lost() -> None:
    truth = replace(TRUTH, orders=[*TRUTH.orders, {"clientOrderId": "ict-p2-E0", "orderId": 3}])
    assert "no lost order" in failures(truth)


def test_a_second_entry_for_one_signal_is_a_duplicate() -> None:
    orders = {**BOT.orders, "ict-p1-E1": {"leg": "ENTRY", "signal_id": "s1", "status": "FILLED"}}
    truth = replace(TRUTH, orders=[*TRUTH.orders, {"clientOrderId": "ict-p1-E1", "orderId": 3}])
    assert "no duplicated order" in failures(truth, replace(BOT, orders=orders))


def test_a_fill_missing_or_counted_twice_is_caught() -> None:
    assert "fills counted once" in failures(bot=replace(BOT, fill_ids=[]))
    assert "fills counted once" in failures(bot=replace(BOT, fill_ids=[("7", ENTRY), ("7", ENTRY)]))


def test_positions_allow_dust_per_closed_position_but_no_more() -> None:
    dusty = replace(TRUTH, balances={**TRUTH.balances, "BTC": D("0.12988")})
    assert "positions equal" in failures(dusty)  # one step more and nothing closed: a real difference
    assert "positions equal" not in failures(dusty, replace(BOT, closed_positions=2))


def test_unprotected_longer_than_the_grace_fails() -> None:
    assert failures(unprotected_s=29.0) == set()
    assert "stop within grace" in failures(unprotected_s=31.0)


def test_halt_without_a_true_loss_is_false_and_with_one_is_not() -> None:
    halted = replace(BOT, trading_state="HALTED", state_reason="daily loss")
    assert "no false halt" in failures(bot=halted)
    poorer = replace(TRUTH, balances={"USDT": D("3000"), "BTC": D("0.12987")})
    assert "no false halt" not in failures(poorer, halted)


def test_equity_off_by_more_than_one_fee_fails() -> None:
    assert "equity within one fee" not in failures(bot=replace(BOT, equity=BOT.equity + D("4.9")))
    assert "equity within one fee" in failures(bot=replace(BOT, equity=BOT.equity + D("5.1")))
