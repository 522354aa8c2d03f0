"""Placing one spot or USD-M order: the open-order limits, the reservation or margin check, then the
order on the book and its taker execution on arrival."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import book
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.model import STOP_TYPES, EngineEvent, OrderRequest, SimOrder
from ictbot.exchange_sim.engine.triggers import would_trigger
from ictbot.exchange_sim.engine.validation import check_filters, check_shape
from ictbot.exchange_sim.errors import (
    DUPLICATE_ORDER,
    INSUFFICIENT_BALANCE,
    MARKET_CLOSED,
    WOULD_TAKE,
    WOULD_TRIGGER,
    SimError,
    filter_failure,
    new_order_rejected,
)
from ictbot.exchange_sim.symbols import SymbolSpec

if TYPE_CHECKING:
    from ictbot.exchange_sim.engine.matching import MatchingEngine

ZERO = Decimal(0)


def place(engine: MatchingEngine, account: str, market: Market, req: OrderRequest,
          now: int) -> tuple[SimOrder, list[EngineEvent]]:
    """Validate and place one order; raises ``SimError`` (no order is created) when refused."""
    spec = engine.spec(market, req.symbol)
    check_shape(req, futures=spec.is_futures)
    if spec.status != "TRADING":
        raise new_order_rejected(MARKET_CLOSED)
    check_filters(spec, req, engine.price(req.symbol))
    batch = Batch()
    if spec.is_futures:
        order = _place_futures(engine, account, spec, req, now, batch)
    else:
        order = _place_spot(engine, account, spec, req, now, batch)
    return engine.registry.current(order), engine.finish(batch, now)


def check_open_limits(engine: MatchingEngine, account: str, spec: SymbolSpec, client_id: str,
                      order_type: str) -> None:
    """Duplicate open client id, MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS; raises ``SimError``."""
    open_here = engine.open_orders(account, spec.market, spec.symbol)
    if any(o.client_order_id == client_id for o in open_here):
        if spec.is_futures:
            raise SimError(-4116, "ClientOrderId is duplicated.")
        raise new_order_rejected(DUPLICATE_ORDER)
    if len(open_here) >= spec.max_num_orders:
        raise new_order_rejected("Filter failure: MAX_NUM_ORDERS")
    if order_type in STOP_TYPES and sum(o.type in STOP_TYPES for o in open_here) >= spec.max_num_algo_orders:
        raise new_order_rejected("Filter failure: MAX_NUM_ALGO_ORDERS")


def _spot_quantity(engine: MatchingEngine, spec: SymbolSpec, req: OrderRequest, last: Decimal) -> Decimal:
    """The order's quantity; a quoteOrderQty MARKET buys what the budget walks (LOT_SIZE-rounded)."""
    if req.quantity is not None:
        return req.quantity
    budget = req.quote_order_qty or ZERO
    qty = sum((q for _, q in book.walk(spec, last, req.side, engine.config, quote_budget=budget)), ZERO)
    if qty <= 0:
        raise filter_failure("LOT_SIZE")
    return qty


def _place_spot(engine: MatchingEngine, account: str, spec: SymbolSpec, req: OrderRequest, now: int,
                batch: Batch) -> SimOrder:
    client_id = req.client_order_id or engine.next_client_id()
    check_open_limits(engine, account, spec, client_id, req.type)
    last = engine.price(spec.symbol)
    if req.type == "LIMIT_MAKER" and req.price is not None and book.is_marketable(
        spec, req.side, req.price, last, engine.config
    ):
        raise new_order_rejected(WOULD_TAKE)
    if req.type in STOP_TYPES and req.stop_price is not None and would_trigger(
        req.type, req.side, req.stop_price, last
    ):
        raise new_order_rejected(WOULD_TRIGGER)
    qty = _spot_quantity(engine, spec, req, last)
    asset, amount = engine.funds.reservation(spec, req, qty, last)
    acct = engine.spot_account(account)
    if acct.available(asset) < amount:
        raise new_order_rejected(INSUFFICIENT_BALANCE)
    order = engine.registry.new_order(account, spec, req, now, client_id, qty)
    order = replace(order, lock_id=engine.funds.lock(acct, asset, amount, {order.order_id}))
    engine.store(order, batch, "NEW", now)
    batch.touch_spot(account, asset)
    engine.execute_on_arrival(order, spec, last, now, batch)
    return order


def _place_futures(engine: MatchingEngine, account: str, spec: SymbolSpec, req: OrderRequest, now: int,
                   batch: Batch) -> SimOrder:
    client_id = req.client_order_id or engine.next_client_id()
    check_open_limits(engine, account, spec, client_id, req.type)
    qty = req.quantity or ZERO
    position = engine.futures_account(account).position(spec.symbol)
    if req.reduce_only:
        if position.amt == 0 or (req.side == "BUY") == (position.amt > 0):
            raise SimError(-2022, "ReduceOnly Order is rejected.")
        qty = min(qty, abs(position.amt))
    else:
        price = req.price or engine.price(spec.symbol)
        if qty * price / engine.leverage(account, spec.symbol) > engine.available_margin(account):
            raise SimError(-2019, "Margin is insufficient.")
    order = engine.registry.new_order(account, spec, req, now, client_id, qty)
    engine.store(order, batch, "NEW", now)
    engine.execute_on_arrival(order, spec, engine.price(spec.symbol), now, batch)
    return order
