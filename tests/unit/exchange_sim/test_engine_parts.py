"""The matching engine's collaborators on their own: triggers, fees, funds, the order registry, algo
checks and the synthetic book's marketability rule."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import MatchingConfig, OrderRequest, book, fees, triggers
from ictbot.exchange_sim.engine.algos import AlgoBook, check_algo
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.funds import Funds
from ictbot.exchange_sim.engine.model import AlgoOrder, BalanceEvent, SimOrder
from ictbot.exchange_sim.engine.registry import OrderRegistry
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.symbols import FUTURES_TEMPLATES, SPOT_TEMPLATES

SPOT_SPEC = SPOT_TEMPLATES["BTCUSDT"]
USDM_SPEC = FUTURES_TEMPLATES["BTCUSDT"]
CONFIG = MatchingConfig()


def order(order_id: int, side: str, order_type: str, price: str = "0", stop: str = "0", **kw: object) -> SimOrder:
    return SimOrder(account="a", market=Market.SPOT, symbol="BTCUSDT", order_id=order_id,
                    client_order_id=f"c{order_id}",
                    side=side, type=order_type, orig_qty=D("1"), price=D(price), stop_price=D(stop),
                    time_in_force="GTC", time=0, update_time=0,
                    working_time=-1 if order_type.startswith(("STOP", "TAKE")) else 0, **kw)  # type: ignore[arg-type]


def algo(algo_id: int, side: str, order_type: str, trigger: str) -> AlgoOrder:
    return AlgoOrder(account="a", symbol="BTCUSDT", algo_id=algo_id, client_algo_id=f"x{algo_id}",
                     order_type=order_type, side=side, position_side="BOTH", time_in_force="GTC",
                     quantity=D("1"), trigger_price=D(trigger), price=D(0), working_type="CONTRACT_PRICE",
                     reduce_only=True, close_position=False, create_time=0, update_time=0)


# ---- triggers ----------------------------------------------------------------------------------------

def test_a_rising_path_triggers_the_upward_stops_it_reaches_lowest_first() -> None:
    stops = [order(1, "BUY", "STOP_LOSS", stop="110"), order(2, "BUY", "STOP_LOSS", stop="105"),
             order(3, "SELL", "STOP_LOSS", stop="104"), order(4, "BUY", "STOP_LOSS", stop="130")]
    crossed = triggers.crossed_stops(stops, [algo(9, "SELL", "TAKE_PROFIT_MARKET", "108")], D("100"), D("120"))
    assert [o.order_id if isinstance(o, SimOrder) else o.algo_id for o in crossed] == [2, 9, 1]


def test_a_falling_path_triggers_the_downward_stops_highest_first() -> None:
    stops = [order(1, "SELL", "STOP_LOSS", stop="90"), order(2, "SELL", "STOP_LOSS", stop="95"),
             order(3, "BUY", "TAKE_PROFIT", stop="92"), order(4, "SELL", "STOP_LOSS", stop="96", triggered=True)]
    crossed = triggers.crossed_stops(stops, [], D("100"), D("85"))
    assert [o.order_id for o in crossed if isinstance(o, SimOrder)] == [2, 3, 1]


def test_resting_limits_fill_only_when_traded_through_unless_touch_counts() -> None:
    limits = [order(1, "BUY", "LIMIT", price="95"), order(2, "BUY", "LIMIT", price="97"),
              order(3, "SELL", "LIMIT", price="101")]
    assert [o.order_id for o in triggers.resting_hits(limits, D("100"), D("95"), {}, touch=False)] == [2]
    assert [o.order_id for o in triggers.resting_hits(limits, D("100"), D("95"), {}, touch=True)] == [2, 1]
    # a limit triggered at 94 on this move starts its own segment there
    assert [o.order_id for o in triggers.resting_hits(limits, D("100"), D("95"), {1: D("94")}, False)] == [2, 1]


# ---- fees --------------------------------------------------------------------------------------------

def test_spot_buy_pays_commission_in_base_sell_and_futures_in_quote() -> None:
    assert fees.commission(CONFIG, SPOT_SPEC, "BUY", D("2"), D("100"), False) == (D("0.002"), "BTC")
    assert fees.commission(CONFIG, SPOT_SPEC, "SELL", D("2"), D("100"), False) == (D("0.2"), "USDT")
    assert fees.commission(CONFIG, USDM_SPEC, "BUY", D("2"), D("100"), True) == (D("0.04"), "USDT")
    assert fees.commission(CONFIG, USDM_SPEC, "BUY", D("2"), D("100"), False) == (D("0.1"), "USDT")


# ---- funds -------------------------------------------------------------------------------------------

def test_a_shared_lock_is_released_only_when_its_last_holder_closes() -> None:
    funds = Funds(MatchingConfig(initial_balances={"BTC": D("1")}))
    acct = funds.spot_account("a")
    lock_id = funds.lock(acct, "BTC", D("0.4"), {1, 2})
    funds.release(order(1, "SELL", "LIMIT", lock_id=lock_id))
    assert (acct.free["BTC"], acct.locked["BTC"]) == (D("0.6"), D("0.4"))
    funds.release(order(2, "SELL", "LIMIT", lock_id=lock_id))
    assert (acct.free["BTC"], acct.locked["BTC"]) == (D("1.0"), D("0"))
    assert funds.locks == {}


def test_a_spot_fill_spends_the_lock_then_free_and_credits_net_of_fees() -> None:
    funds = Funds(MatchingConfig(initial_balances={"USDT": D("1000")}))
    acct = funds.spot_account("a")
    lock_id = funds.lock(acct, "USDT", D("100"), {1})
    buy = order(1, "BUY", "LIMIT", price="100", lock_id=lock_id)
    assert funds.settle_fill(buy, SPOT_SPEC, D("101"), D("1"), True, 5) == (D("0.001"), "BTC", D(0))
    assert (acct.free["USDT"], acct.locked["USDT"], acct.free["BTC"]) == (D("899"), D("0"), D("0.999"))


def test_futures_settings_refuse_bad_values_and_margin_counts_positions_and_orders() -> None:
    funds = Funds(MatchingConfig(futures_initial_balances={"USDT": D("1000")}, default_leverage=10))
    with pytest.raises(SimError, match="Leverage is not valid"):
        funds.set_leverage("a", "BTCUSDT", 126)
    funds.set_margin_type("a", "BTCUSDT", "ISOLATED")
    with pytest.raises(SimError, match="No need to change"):
        funds.set_margin_type("a", "BTCUSDT", "ISOLATED")
    funds.futures_account("a").position("BTCUSDT").apply_fill("BUY", D("1"), D("100"))
    resting = order(7, "BUY", "LIMIT", price="50")
    # equity 1000 + (110 − 100) × 1; used 110 / 10 + 50 / 10
    assert funds.available_margin("a", lambda _: D("110"), [resting]) == D("1010") - D("11") - D("5")


def test_balance_events_cover_every_touched_account_spot_first() -> None:
    funds = Funds(CONFIG)
    batch = Batch()
    batch.touch_futures("b", "BTCUSDT")
    batch.touch_spot("a", "USDT")
    events = funds.balance_events(batch, lambda _: D("1"), 3)
    assert [(e.account, e.market) for e in events if isinstance(e, BalanceEvent)] == [
        ("a", Market.SPOT), ("b", Market.USDM)]


# ---- registry ----------------------------------------------------------------------------------------

def test_registry_numbers_orders_per_symbol_and_tracks_the_open_ones() -> None:
    registry = OrderRegistry()
    registry.add_symbol((Market.SPOT, "BTCUSDT"))
    request = OrderRequest(symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=D("1"), price=D("10"))
    first = registry.new_order("a", SPOT_SPEC, request, 1, "c1", D("1"))
    second = registry.new_order("a", SPOT_SPEC, request, 1, "c2", D("1"))
    assert (first.order_id, second.order_id) == (1, 2)
    assert registry.record(first) is False
    assert registry.open_on(Market.SPOT, "BTCUSDT") == [first]
    assert registry.record(replace(first, status="FILLED")) is True
    assert registry.open_on(Market.SPOT, "BTCUSDT") == []
    assert registry.find("a", Market.SPOT, "BTCUSDT", None, "c1") is not None
    assert registry.find("b", Market.SPOT, "BTCUSDT", 1, None) is None


def test_generated_client_ids_are_deterministic_and_distinct() -> None:
    one, two = OrderRegistry(), OrderRegistry()
    ids = [one.next_client_id() for _ in range(3)]
    assert ids == [two.next_client_id() for _ in range(3)]
    assert len(set(ids)) == 3 and all(len(i) == 22 for i in ids)


# ---- algo orders and the book --------------------------------------------------------------------------

def test_algo_checks_refuse_a_missing_trigger_and_one_already_crossed() -> None:
    stop = OrderRequest(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", quantity=D("0.01"))
    with pytest.raises(SimError, match="triggerPrice"):
        check_algo(USDM_SPEC, stop, None, D("50000"))
    with pytest.raises(SimError, match="immediately trigger"):
        check_algo(USDM_SPEC, stop, D("50100"), D("50000"))
    assert check_algo(USDM_SPEC, stop, D("49000"), D("50000")) == D("49000")


def test_algo_book_finds_by_id_or_latest_client_id_and_lists_open_ones() -> None:
    algos = AlgoBook()
    stop = OrderRequest(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", quantity=D("0.01"))
    first = algos.add("a", stop, D("49000"), "MARK_PRICE", 1, "same")
    second = algos.add("a", stop, D("48000"), "MARK_PRICE", 2, "same")
    assert algos.find("a", None, "same") == second
    assert algos.find("a", first.algo_id, None) == first
    algos.update(second, "CANCELED", 3)
    assert algos.open_for("a") == [first]


def test_a_limit_is_marketable_when_it_reaches_the_other_side_of_the_book() -> None:
    last = D("50000.00")
    ask = book.best_ask(SPOT_SPEC, last, CONFIG)
    assert book.is_marketable(SPOT_SPEC, "BUY", ask, last, CONFIG)
    assert not book.is_marketable(SPOT_SPEC, "BUY", ask - SPOT_SPEC.tick_size, last, CONFIG)
    assert book.is_marketable(SPOT_SPEC, "SELL", last, last, CONFIG)
    assert not book.is_marketable(SPOT_SPEC, "SELL", last + SPOT_SPEC.tick_size, last, CONFIG)
