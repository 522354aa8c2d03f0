"""OCO order lists (``POST /api/v3/orderList/oco``) on the matching engine, and the list bookkeeping
every contingency type shares: cancelling a list's legs, a leg starting, the list closing.

OTO / OTOCO specifics live in ``oto``; a leg that trades or triggers is routed there first.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import book, oto, placement
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.model import STOP_TYPES, EngineEvent, ListEvent, OrderList, OrderRequest, SimOrder
from ictbot.exchange_sim.engine.validation import check_filters, check_shape
from ictbot.exchange_sim.errors import (
    INSUFFICIENT_BALANCE,
    MARKET_CLOSED,
    OCO_PRICES,
    WOULD_TAKE,
    SimError,
    new_order_rejected,
)

if TYPE_CHECKING:
    from ictbot.exchange_sim.engine.matching import MatchingEngine

ZERO = Decimal(0)
ListResult = tuple[OrderList, list[SimOrder], list[EngineEvent]]


def check_oco(engine: MatchingEngine, symbol: str, side: str, above: OrderRequest, below: OrderRequest) -> None:
    """Shape, filters and the OCO price rules (above the last price / below it); raises ``SimError``."""
    spec = engine.spec(Market.SPOT, symbol)
    if spec.status != "TRADING":
        raise new_order_rejected(MARKET_CLOSED)
    last = engine.price(symbol)
    for leg in (above, below):
        check_shape(leg, futures=False)
        check_filters(spec, leg, last)
    if below.type == "LIMIT_MAKER":
        raise SimError(-1102, "Mandatory parameter 'belowType' was not sent, was empty/null, or malformed.")
    for leg in (above, below):
        trigger = leg.stop_price if leg.type in STOP_TYPES else leg.price
        if trigger is None:
            raise new_order_rejected(OCO_PRICES)
        if (leg is above and trigger <= last) or (leg is below and trigger >= last):
            raise new_order_rejected(OCO_PRICES)
        if leg.type == "LIMIT_MAKER" and book.is_marketable(spec, side, trigger, last, engine.config):
            raise new_order_rejected(WOULD_TAKE)


def place_oco(engine: MatchingEngine, account: str, symbol: str, side: str, quantity: Decimal,
              legs: tuple[OrderRequest, OrderRequest], now: int, list_client_id: str | None) -> ListResult:
    """Both legs on the book with one lock: the base quantity (SELL) or the dearer leg's cost (BUY)."""
    check_oco(engine, symbol, side, *legs)
    spec = engine.spec(Market.SPOT, symbol)
    client_ids = [leg.client_order_id or engine.next_client_id() for leg in legs]
    for client_id, leg in zip(client_ids, legs, strict=True):
        placement.check_open_limits(engine, account, spec, client_id, leg.type)
    if side == "SELL":
        asset, amount = spec.base, quantity
    else:
        asset = spec.quote
        amount = max((leg.price or leg.stop_price or ZERO) * quantity for leg in legs)
    acct = engine.spot_account(account)
    if acct.available(asset) < amount:
        raise new_order_rejected(INSUFFICIENT_BALANCE)
    list_id = engine.registry.next_list_id()
    orders = [engine.registry.new_order(account, spec, leg, now, client_id, quantity, list_id)
              for client_id, leg in zip(client_ids, legs, strict=True)]
    lock_id = engine.funds.lock(acct, asset, amount, {o.order_id for o in orders})
    orders = [replace(o, lock_id=lock_id) for o in orders]
    order_list = OrderList(
        account=account, symbol=symbol, order_list_id=list_id,
        list_client_order_id=list_client_id or engine.next_client_id(),
        order_ids=tuple(o.order_id for o in orders), client_order_ids=tuple(o.client_order_id for o in orders),
        transaction_time=now,
    )
    engine.lists[list_id] = order_list
    batch = Batch()
    batch.events.append(ListEvent(order_list, now))
    for order in orders:
        engine.store(order, batch, "NEW", now)
    batch.touch_spot(account, asset)
    return order_list, [engine.registry.current(o) for o in orders], engine.finish(batch, now)


def cancel_list(engine: MatchingEngine, account: str, symbol: str, now: int, list_id: int | None,
                list_client_id: str | None) -> ListResult:
    """Cancel the (latest) list with the id or client id; -2011 when unknown or already done."""
    engine.spec(Market.SPOT, symbol)
    found = [
        lst for lst in engine.lists.values()
        if lst.account == account and lst.symbol == symbol
        and (lst.order_list_id == list_id if list_id is not None else lst.list_client_order_id == list_client_id)
    ]
    if not found or found[-1].list_status_type == "ALL_DONE":
        raise SimError(-2011, "Order list does not exist." if not found else "Unknown order sent.")
    order_list = found[-1]
    batch = Batch()
    cancel_legs(engine, order_list, now, batch, engine.next_client_id())
    orders = [engine.registry.get(Market.SPOT, symbol, i) for i in order_list.order_ids]
    return engine.lists[order_list.order_list_id], orders, engine.finish(batch, now)


def cancel_legs(engine: MatchingEngine, order_list: OrderList, now: int, batch: Batch, cancel_id: str) -> None:
    for order_id in order_list.order_ids:
        leg = engine.registry.get(Market.SPOT, order_list.symbol, order_id)
        if leg.is_open:
            engine.cancel_one(leg, now, batch, cancel_id)
    oto.cancel_pending(engine, order_list, now, batch, cancel_id)
    maybe_close(engine, order_list, now, batch)


def leg_started(engine: MatchingEngine, order: SimOrder, now: int, batch: Batch) -> None:
    """A leg traded or triggered: the other legs expire (``OCO_TRIGGER``); OTO lists: ``oto``."""
    if oto.on_list_order_started(engine, order, now, batch):
        return
    order_list = engine.lists[order.order_list_id]
    for order_id in order_list.order_ids:
        other = engine.registry.get(Market.SPOT, order.symbol, order_id)
        if order_id != order.order_id and other.is_open:
            engine.expire(other, "OCO_TRIGGER", now, batch)
    maybe_close(engine, order_list, now, batch)


def maybe_close(engine: MatchingEngine, order_list: OrderList, now: int, batch: Batch) -> None:
    """ALL_DONE (with its list event) once no leg is open or pending."""
    current = engine.lists[order_list.order_list_id]
    if current.list_status_type == "ALL_DONE":
        return
    legs = [engine.registry.get(Market.SPOT, current.symbol, i) for i in current.order_ids]
    if all(not leg.is_open and leg.status != oto.PENDING_NEW for leg in legs):
        done = replace(current, list_status_type="ALL_DONE", list_order_status="ALL_DONE")
        engine.lists[current.order_list_id] = done
        batch.events.append(ListEvent(done, now))
