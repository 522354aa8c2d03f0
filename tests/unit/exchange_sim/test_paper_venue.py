"""PaperVenue: the ExecutionVenue port on the shared matching engine."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from ictbot.domain.candle import Candle
from ictbot.domain.errors import (
    DuplicateOrderError,
    FilterFailureError,
    InsufficientBalanceError,
    OrderNotFoundError,
)
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderAccepted, OrderFilled, OrderSide, OrderStatus, OrderType, TimeInForce
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.engine import MatchingConfig
from ictbot.exchange_sim.paper_venue import PaperVenue
from ictbot.ports.clock import ManualClock
from ictbot.ports.venue import ExecutionVenue

T0 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000


def venue(market: Market = Market.SPOT) -> PaperVenue:
    paper = PaperVenue(ManualClock(T0), market=market,
                       config=MatchingConfig(initial_balances={"USDT": D("10000")},
                                             futures_initial_balances={"USDT": D("10000")}))
    paper.add_symbol("BTCUSDT", D("50000.00"))
    return paper


def order(cid: str, side: OrderSide, type_: OrderType, qty: str, price: str | None = None,
          stop: str | None = None, market: Market = Market.SPOT, reduce_only: bool = False) -> Order:
    tif = TimeInForce.GTC if type_ in (OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT) else None
    return Order(client_order_id=cid, symbol="BTCUSDT", side=side, type=type_, quantity=D(qty), created_at=T0,
                 price=D(price) if price else None, stop_price=D(stop) if stop else None, time_in_force=tif,
                 market=market, reduce_only=reduce_only)


def candle(open_: str, high: str, low: str, close: str, minute: int = 1) -> Candle:
    return Candle("BTCUSDT", Timeframe.M1, T0 + minute * 60_000, D(open_), D(high), D(low), D(close), D("10"))


def test_satisfies_the_port() -> None:
    port: ExecutionVenue = venue()
    assert port is not None


async def test_market_order_fills_and_the_domain_order_accepts_the_report() -> None:
    paper = venue()
    mine = order("ict-1", OrderSide.BUY, OrderType.MARKET, "0.01000")
    report = await paper.place_order(mine)
    assert report.status is OrderStatus.FILLED and report.executed_qty == D("0.01")
    state = mine.apply(OrderAccepted(report.exchange_order_id or "", report.time))
    for fill in report.fills:
        state = state.apply(OrderFilled(fill))
    assert state.status is OrderStatus.FILLED and state.fee_in("BTC") == D("0.00001")
    balances = await paper.balances()
    assert balances["BTC"].free == D("0.00999") and balances["USDT"].locked == 0


async def test_limit_fills_on_the_candle_path_and_streams_updates() -> None:
    paper = venue()
    await paper.place_order(order("ict-2", OrderSide.BUY, OrderType.LIMIT, "0.01000", price="49500.00"))
    updates = paper.order_updates()
    first = await asyncio.wait_for(updates.__anext__(), 1)
    assert first.status is OrderStatus.NEW
    assert paper.on_candle(candle("50000", "50100", "49600", "50050")) == []  # low stays above the limit
    reports = paper.on_candle(candle("50050", "50100", "49400", "49800", minute=2))
    assert [r.status for r in reports] == [OrderStatus.FILLED]
    assert reports[0].fills[0].price == D("49500.00") and reports[0].fills[0].is_maker
    assert (await asyncio.wait_for(updates.__anext__(), 1)).status is OrderStatus.FILLED
    assert [f.trade_id for f in await paper.trades("BTCUSDT")] == ["1"]


async def test_oco_target_fills_and_stop_expires() -> None:
    paper = venue()
    await paper.place_order(order("ict-e", OrderSide.BUY, OrderType.MARKET, "0.01000"))
    stop = order("ict-s", OrderSide.SELL, OrderType.STOP_LOSS_LIMIT, "0.00999", price="48900.00", stop="49000.00")
    target = order("ict-t", OrderSide.SELL, OrderType.LIMIT_MAKER, "0.00999", price="51000.00")
    placed = await paper.place_oco(stop, target, "ict-list")
    assert {r.client_order_id for r in placed} == {"ict-s", "ict-t"} and all(r.list_client_id == "ict-list"
                                                                               for r in placed)
    reports = paper.on_candle(candle("50000", "51200", "49900", "51100"))
    by_id = {r.client_order_id: r for r in reports}
    assert by_id["ict-t"].status is OrderStatus.FILLED
    assert by_id["ict-s"].status is OrderStatus.EXPIRED and by_id["ict-s"].reason == "OCO_TRIGGER"
    assert await paper.open_orders() == []


async def test_errors_are_translated_to_the_domain_hierarchy() -> None:
    paper = venue()
    with pytest.raises(InsufficientBalanceError):
        await paper.place_order(order("ict-big", OrderSide.BUY, OrderType.MARKET, "5.00000"))
    with pytest.raises(FilterFailureError):
        await paper.place_order(order("ict-lot", OrderSide.BUY, OrderType.MARKET, "0.000015"))
    await paper.place_order(order("ict-d", OrderSide.BUY, OrderType.LIMIT, "0.00100", price="40000.00"))
    with pytest.raises(DuplicateOrderError):
        await paper.place_order(order("ict-d", OrderSide.BUY, OrderType.LIMIT, "0.00100", price="40000.00"))
    canceled = await paper.cancel_order("BTCUSDT", "ict-d")
    assert canceled.status is OrderStatus.CANCELED
    with pytest.raises(OrderNotFoundError):
        await paper.cancel_order("BTCUSDT", "ict-d")
    assert await paper.query_order("BTCUSDT", "nope") is None
    queried = await paper.query_order("BTCUSDT", "ict-d")
    assert queried is not None and queried.status is OrderStatus.CANCELED


async def test_futures_positions_and_stop_market_algo() -> None:
    paper = venue(Market.USDM)
    await paper.place_order(order("ict-l", OrderSide.BUY, OrderType.MARKET, "0.100", market=Market.USDM))
    positions = await paper.positions()
    assert positions[0].qty == D("0.100") and positions[0].leverage == 20
    stop = order("ict-sl", OrderSide.SELL, OrderType.STOP_MARKET, "0.100", stop="49000.00", market=Market.USDM,
                 reduce_only=True)
    placed = await paper.place_order(stop)
    assert placed.status is OrderStatus.NEW and len(await paper.open_orders()) == 1
    reports = paper.on_candle(candle("50000", "50010", "48500", "48600"))
    filled = [r for r in reports if r.client_order_id == "ict-sl" and r.status is OrderStatus.FILLED]
    assert filled and filled[0].fills[0].price == D("49000.00")
    assert await paper.positions() == []
    assert (await paper.balances())["USDT"].free < D("10000")
