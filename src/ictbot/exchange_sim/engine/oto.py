"""OTO and OTOCO order lists (``POST /api/v3/orderList/oto`` and ``/otoco``) on the matching engine.

An OTO is a *working* order (LIMIT or LIMIT_MAKER, on the book at once) and a *pending* order that
the exchange places only when the working order is fully filled; an OTOCO's pending part is an OCO
pair (``pendingAbove`` / ``pendingBelow``, the OCO leg rules). Until then the pending orders exist
with status ``PENDING_NEW``: not on the book, no funds reserved, not in ``openOrders``. Cancelling
any order of the list cancels the whole list. List status: ``EXEC_STARTED`` / ``EXECUTING`` while any
order is working or pending, ``ALL_DONE`` when none is left.

Simulator choices where Binance's documentation is silent (docs/simulator.md): the pending prices are
checked at placement against the working order's price (where the fill will happen); on activation a
pending order that the account cannot fund, or a LIMIT_MAKER that would take, expires; a pending stop
already crossed by the last price triggers at once; a working order that expires (IOC / FOK
remainder) takes its pending orders with it (``OTO_PHASE_ONE_EXPIRED``); a symbol whose
``otoAllowed`` is false refuses the list with -2010.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import book, placement
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.model import (
    STOP_TYPES,
    EngineEvent,
    ListEvent,
    OrderList,
    OrderRequest,
    SimOrder,
)
from ictbot.exchange_sim.engine.triggers import would_trigger
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

PENDING_NEW = "PENDING_NEW"
OTO_NOT_ALLOWED = "OTO orders are not supported for this symbol."  # exchangeInfo otoAllowed false
WORKING_TYPES = ("LIMIT", "LIMIT_MAKER")
ZERO = Decimal(0)


def check_oto(engine: MatchingEngine, symbol: str, working: OrderRequest, pending: tuple[OrderRequest, ...]) -> None:
    """Shape, filters and price rules of every order of the list; raises ``SimError`` when refused."""
    spec = engine.spec(Market.SPOT, symbol)
    if spec.status != "TRADING":
        raise new_order_rejected(MARKET_CLOSED)
    if not spec.oto_allowed:
        raise new_order_rejected(OTO_NOT_ALLOWED)
    if working.type not in WORKING_TYPES:
        raise SimError(-1102, "Mandatory parameter 'workingType' was not sent, was empty/null, or malformed.")
    last = engine.price(symbol)
    for request in (working, *pending):
        check_shape(request, futures=False)
        check_filters(spec, request, last)
    working_price = working.price or ZERO
    if working.type == "LIMIT_MAKER" and book.is_marketable(spec, working.side, working_price, last, engine.config):
        raise new_order_rejected(WOULD_TAKE)
    if len(pending) == 2:  # OTOCO: the OCO rules, around the price the working order will fill at
        above, below = pending
        if below.type == "LIMIT_MAKER":
            raise SimError(-1102, "Mandatory parameter 'pendingBelowType' was not sent, was empty/null, "
                                  "or malformed.")
        fill_at = working.price or last
        for leg in pending:
            trigger = leg.stop_price if leg.type in STOP_TYPES else leg.price
            if trigger is None or (leg is above and trigger <= fill_at) or (leg is below and trigger >= fill_at):
                raise new_order_rejected(OCO_PRICES)


def place_oto(engine: MatchingEngine, account: str, symbol: str, working: OrderRequest,
              pending: tuple[OrderRequest, ...], now: int, list_client_id: str | None
              ) -> tuple[OrderList, list[SimOrder], list[EngineEvent]]:
    """Place the list: the working order on the book (funds reserved), the pending ones as PENDING_NEW."""
    check_oto(engine, symbol, working, pending)
    spec = engine.spec(Market.SPOT, symbol)
    requests = (working, *pending)
    client_ids = [r.client_order_id or engine.next_client_id() for r in requests]
    if len(set(client_ids)) != len(client_ids):
        raise new_order_rejected("Duplicate order sent.")
    for client_id, request in zip(client_ids, requests, strict=True):
        placement.check_open_limits(engine, account, spec, client_id, request.type)
    last = engine.price(symbol)
    qty = working.quantity or ZERO
    asset, amount = engine.funds.reservation(spec, working, qty, last)
    acct = engine.spot_account(account)
    if acct.available(asset) < amount:
        raise new_order_rejected(INSUFFICIENT_BALANCE)
    list_id = engine.registry.next_list_id()
    orders = [engine.registry.new_order(account, spec, r, now, c, r.quantity or ZERO, list_id)
              for r, c in zip(requests, client_ids, strict=True)]
    orders[1:] = [replace(o, status=PENDING_NEW, working_time=-1) for o in orders[1:]]
    orders[0] = replace(orders[0], lock_id=engine.funds.lock(acct, asset, amount, {orders[0].order_id}))
    order_list = OrderList(
        account=account, symbol=symbol, order_list_id=list_id,
        list_client_order_id=list_client_id or engine.next_client_id(),
        order_ids=tuple(o.order_id for o in orders), client_order_ids=tuple(o.client_order_id for o in orders),
        transaction_time=now, contingency_type="OTO",
    )
    engine.lists[list_id] = order_list
    batch = Batch()
    batch.events.append(ListEvent(order_list, now))
    for order in orders:
        engine.store(order, batch, "NEW", now)
    batch.touched_spot.setdefault(account, set()).add(asset)
    engine.execute_on_arrival(orders[0], spec, last, now, batch)
    placed = [engine.orders[(Market.SPOT, symbol, o.order_id)] for o in orders]
    return engine.lists[list_id], placed, engine.finish(batch, now)


def on_list_order_started(engine: MatchingEngine, order: SimOrder, now: int, batch: Batch) -> bool:
    """An order of an OTO list traded or triggered; False when the list is an OCO (the caller's case).

    The working order fully filled: the pending orders go on the book. A pending OCO leg started: the
    other pending leg expires (``OCO_TRIGGER``), as in an OCO.
    """
    order_list = engine.lists[order.order_list_id]
    if order_list.contingency_type != "OTO":
        return False
    legs = [engine.orders[(Market.SPOT, order.symbol, i)] for i in order_list.order_ids]
    if order.order_id == order_list.order_ids[0]:
        if order.status == "FILLED":
            _activate(engine, legs[1:], now, batch)
    else:
        for other in legs[1:]:
            if other.order_id != order.order_id and other.is_open:
                engine.expire(other, "OCO_TRIGGER", now, batch)
    engine.maybe_close_list(order_list, now, batch)
    return True


def _activate(engine: MatchingEngine, pending: list[SimOrder], now: int, batch: Batch) -> None:
    """Put the pending order(s) on the book with one reservation (an OTOCO pair shares it, as an OCO)."""
    spec = engine.spec(Market.SPOT, pending[0].symbol)
    last = engine.price(spec.symbol)
    first = pending[0]
    if first.side == "SELL":
        asset, amount = spec.base, max(o.orig_qty for o in pending)
    else:
        asset = spec.quote
        amount = max((o.price or o.stop_price) * o.orig_qty for o in pending)
    acct = engine.spot_account(first.account)
    refused = acct.available(asset) < amount or any(
        o.type == "LIMIT_MAKER" and book.is_marketable(spec, o.side, o.price, last, engine.config) for o in pending)
    if refused:
        for order in pending:
            engine.expire(order, "NONE", now, batch)
        return
    lock_id = engine.funds.lock(acct, asset, amount, {o.order_id for o in pending})
    live = [replace(o, status="NEW", lock_id=lock_id, working_time=now if o.type not in STOP_TYPES else -1,
                    update_time=now) for o in pending]
    for order in live:
        engine.store(order, batch, "NEW", now)
    batch.touched_spot.setdefault(first.account, set()).add(asset)
    for order in live:
        current = engine.orders[(Market.SPOT, order.symbol, order.order_id)]
        if not current.is_open:
            continue
        if current.type in STOP_TYPES:
            if would_trigger(current.type, current.side, current.stop_price, last):
                engine.trigger_order(current, last, now, batch)
        else:
            engine.execute_on_arrival(current, spec, last, now, batch)


def on_list_order_expired(engine: MatchingEngine, order: SimOrder, now: int, batch: Batch) -> None:
    """The working order of an OTO list expired (IOC/FOK remainder, a LIMIT_MAKER that would take):
    its pending orders can never be placed and expire with it (``OTO_PHASE_ONE_EXPIRED``)."""
    order_list = engine.lists.get(order.order_list_id)
    if order_list is None or order_list.contingency_type != "OTO" or order.order_id != order_list.order_ids[0]:
        return
    for order_id in order_list.order_ids[1:]:
        leg = engine.orders[(Market.SPOT, order.symbol, order_id)]
        if leg.status == PENDING_NEW:
            engine.expire(leg, "OTO_PHASE_ONE_EXPIRED", now, batch)
    engine.maybe_close_list(order_list, now, batch)


def cancel_pending(engine: MatchingEngine, order_list: OrderList, now: int, batch: Batch, cancel_id: str) -> None:
    """Cancelling any order of an OTO list cancels its pending orders too."""
    for order_id in order_list.order_ids:
        leg = engine.orders[(Market.SPOT, order_list.symbol, order_id)]
        if leg.status == PENDING_NEW:
            engine.cancel_one(leg, now, batch, cancel_id)
