"""The matching engine: the bot's orders against a replayed price path, for every account.

Pure and deterministic: no I/O, no wall clock (``now`` is passed in), Decimal arithmetic. The
server (``exchange_sim.server``) and the in-process paper venue (``exchange_sim.paper_venue``) drive the
same instance type, so backtests, paper trading and integration tests fill orders identically.

Every mutating call returns the events it caused, in order (execution reports, then the balance
change), which the callers turn into executionReport / ORDER_TRADE_UPDATE / venue reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import book, oto
from ictbot.exchange_sim.engine.accounts import FuturesAccount, SpotAccount
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.engine.model import (
    LIMIT_LIKE,
    STOP_TYPES,
    AlgoEvent,
    AlgoOrder,
    BalanceEvent,
    EngineEvent,
    ListEvent,
    Lock,
    OrderEvent,
    OrderList,
    OrderRequest,
    PositionView,
    SimOrder,
    Trade,
)
from ictbot.exchange_sim.engine.validation import check_filters, check_shape
from ictbot.exchange_sim.errors import (
    DUPLICATE_ORDER,
    INSUFFICIENT_BALANCE,
    MARKET_CLOSED,
    OCO_PRICES,
    WOULD_TAKE,
    WOULD_TRIGGER,
    SimError,
    filter_failure,
    invalid_symbol,
    mandatory,
    new_order_rejected,
    unknown_order_cancel,
)
from ictbot.exchange_sim.formatting import round_half_up
from ictbot.exchange_sim.symbols import SymbolSpec

ZERO = Decimal(0)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALGO_TYPES = frozenset({"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"})
OrderKey = tuple[Market, str, int]


def triggers_upward(order_type: str, side: str) -> bool:
    """True when the order triggers as the price rises to its stop (STOP BUY, TAKE_PROFIT SELL)."""
    is_stop = order_type.startswith("STOP")
    return (is_stop and side == "BUY") or (not is_stop and side == "SELL")


def would_trigger(order_type: str, side: str, stop: Decimal, last: Decimal) -> bool:
    return last >= stop if triggers_upward(order_type, side) else last <= stop


@dataclass(slots=True)
class _Batch:
    """Collects the events of one engine call plus the assets it touched per account."""

    events: list[EngineEvent] = field(default_factory=list)
    touched_spot: dict[str, set[str]] = field(default_factory=dict)
    touched_futures: dict[str, set[str]] = field(default_factory=dict)
    funding: bool = False


class MatchingEngine:
    def __init__(self, config: MatchingConfig, specs: Iterable[SymbolSpec] = ()) -> None:
        self.config = config
        self.specs: dict[tuple[Market, str], SymbolSpec] = {}
        self.last: dict[str, Decimal] = {}
        self.spot_accounts: dict[str, SpotAccount] = {}
        self.futures_accounts: dict[str, FuturesAccount] = {}
        self.orders: dict[OrderKey, SimOrder] = {}
        self.open_ids: dict[tuple[Market, str], list[int]] = {}
        self.trades: list[Trade] = []
        self.lists: dict[int, OrderList] = {}
        self.algos: dict[int, AlgoOrder] = {}
        self.locks: dict[int, Lock] = {}
        self._next_order_id: dict[tuple[Market, str], int] = {}
        self._next_trade_id: dict[tuple[Market, str], int] = {}
        self._next_list_id = 1
        self._next_algo_id = 1000000001
        self._next_lock_id = 1
        self._auto_ids = 0
        for spec in specs:
            self.add_symbol(spec)

    # ---- set-up ---------------------------------------------------------------------------------

    def add_symbol(self, spec: SymbolSpec, price: Decimal | None = None) -> None:
        self.specs[(spec.market, spec.symbol)] = spec
        self.open_ids.setdefault((spec.market, spec.symbol), [])
        self._next_order_id.setdefault((spec.market, spec.symbol), 1)
        self._next_trade_id.setdefault((spec.market, spec.symbol), 1)
        if price is not None:
            self.last[spec.symbol] = price

    def set_status(self, market: Market, symbol: str, status: str) -> None:
        self.specs[(market, symbol)] = self.spec(market, symbol).with_status(status)

    def spec(self, market: Market, symbol: str) -> SymbolSpec:
        try:
            return self.specs[(market, symbol)]
        except KeyError:
            raise invalid_symbol() from None

    def spot_account(self, account: str) -> SpotAccount:
        acct = self.spot_accounts.get(account)
        if acct is None:
            acct = SpotAccount(free=dict(self.config.initial_balances))
            self.spot_accounts[account] = acct
        return acct

    def futures_account(self, account: str) -> FuturesAccount:
        acct = self.futures_accounts.get(account)
        if acct is None:
            acct = FuturesAccount(wallet=dict(self.config.futures_initial_balances))
            self.futures_accounts[account] = acct
        return acct

    def price(self, symbol: str) -> Decimal:
        return self.last.get(symbol, ZERO)

    # ---- queries --------------------------------------------------------------------------------

    def find_order(
        self, account: str, market: Market, symbol: str, order_id: int | None = None, client_id: str | None = None
    ) -> SimOrder | None:
        self.spec(market, symbol)
        if order_id is not None:
            order = self.orders.get((market, symbol, order_id))
            if order is None or order.account != account:
                return None
            if client_id is not None and order.client_order_id != client_id:
                return None
            return order
        if client_id is None:
            raise mandatory("orderId")
        found: SimOrder | None = None
        for key in reversed(self.open_ids[(market, symbol)]):  # an open order with this id wins
            order = self.orders[(market, symbol, key)]
            if order.account == account and order.client_order_id == client_id:
                return order
        for order in self.orders.values():
            if (order.market, order.symbol, order.account, order.client_order_id) == (market, symbol, account,
                                                                                     client_id):
                found = order
        return found

    def open_orders(self, account: str, market: Market, symbol: str | None = None) -> list[SimOrder]:
        result: list[SimOrder] = []
        for (mkt, sym), ids in self.open_ids.items():
            if mkt is market and (symbol is None or sym == symbol):
                result.extend(self.orders[(mkt, sym, i)] for i in ids)
        return [o for o in result if o.account == account]

    def all_orders(self, account: str, market: Market, symbol: str) -> list[SimOrder]:
        return sorted(
            (o for o in self.orders.values() if o.account == account and o.market is market and o.symbol == symbol),
            key=lambda o: o.order_id,
        )

    def account_trades(self, account: str, market: Market, symbol: str) -> list[Trade]:
        return [t for t in self.trades if t.account == account and t.symbol == symbol and t.market is market]

    def positions(self, account: str) -> list[PositionView]:
        acct = self.futures_account(account)
        symbols = sorted({s for (m, s) in self.specs if m is Market.USDM})
        return [acct.position_view(s, self.price(s), self.config.default_leverage) for s in symbols]

    def open_algos(self, account: str, symbol: str | None = None) -> list[AlgoOrder]:
        return [a for a in self.algos.values() if a.account == account and a.is_open
                and (symbol is None or a.symbol == symbol)]

    # ---- placing and cancelling ----------------------------------------------------------------

    def next_client_id(self) -> str:
        """Binance-style 22-character id for orders placed without ``newClientOrderId`` (deterministic)."""
        self._auto_ids += 1
        digest = int.from_bytes(hashlib.sha256(f"sim-{self._auto_ids}".encode()).digest()[:17], "big")
        chars = []
        for _ in range(22):
            digest, index = divmod(digest, 62)
            chars.append(_ALPHABET[index])
        return "".join(chars)

    def place(self, account: str, market: Market, req: OrderRequest, now: int) -> tuple[SimOrder, list[EngineEvent]]:
        """Validate and place one order; raises ``SimError`` (no order is created) when refused."""
        spec = self.spec(market, req.symbol)
        check_shape(req, futures=spec.is_futures)
        if spec.status != "TRADING":
            raise new_order_rejected(MARKET_CLOSED)
        last = self.price(req.symbol)
        check_filters(spec, req, last)
        batch = _Batch()
        if spec.is_futures:
            order = self._place_futures(account, spec, req, now, batch)
        else:
            order = self._place_spot(account, spec, req, now, batch)
        return self.orders[(market, spec.symbol, order.order_id)], self._finish(batch, now)

    def _check_open_limits(self, account: str, spec: SymbolSpec, client_id: str, order_type: str) -> None:
        open_here = [o for o in self.open_orders(account, spec.market, spec.symbol)]
        if any(o.client_order_id == client_id for o in open_here):
            if spec.is_futures:
                raise SimError(-4116, "ClientOrderId is duplicated.")
            raise new_order_rejected(DUPLICATE_ORDER)
        if len(open_here) >= spec.max_num_orders:
            raise new_order_rejected("Filter failure: MAX_NUM_ORDERS")
        if order_type in STOP_TYPES and sum(o.type in STOP_TYPES for o in open_here) >= spec.max_num_algo_orders:
            raise new_order_rejected("Filter failure: MAX_NUM_ALGO_ORDERS")

    def _new_order(self, account: str, spec: SymbolSpec, req: OrderRequest, now: int, client_id: str,
                   qty: Decimal, list_id: int = -1) -> SimOrder:
        key = (spec.market, spec.symbol)
        order_id = self._next_order_id[key]
        self._next_order_id[key] = order_id + 1
        working = req.type not in STOP_TYPES
        tif = req.time_in_force or "GTC"
        return SimOrder(
            account=account, market=spec.market, symbol=spec.symbol, order_id=order_id,
            client_order_id=client_id, side=req.side, type=req.type, orig_qty=qty,
            price=req.price or ZERO, stop_price=req.stop_price or ZERO, time_in_force=tif, time=now,
            update_time=now, working_time=now if working else -1,
            orig_quote_order_qty=req.quote_order_qty or ZERO, order_list_id=list_id,
            reduce_only=req.reduce_only, position_side=req.position_side, close_position=req.close_position,
            orig_type=req.type,
        )

    def _is_marketable(self, spec: SymbolSpec, side: str, price: Decimal, last: Decimal) -> bool:
        if side == "BUY":
            return price >= book.best_ask(spec, last, self.config)
        return price <= book.best_bid(spec, last)

    def _place_spot(self, account: str, spec: SymbolSpec, req: OrderRequest, now: int, batch: _Batch) -> SimOrder:
        client_id = req.client_order_id or self.next_client_id()
        self._check_open_limits(account, spec, client_id, req.type)
        last = self.price(spec.symbol)
        if req.type == "LIMIT_MAKER" and req.price is not None and self._is_marketable(spec, req.side, req.price, last):
            raise new_order_rejected(WOULD_TAKE)
        if req.type in STOP_TYPES and req.stop_price is not None and would_trigger(
            req.type, req.side, req.stop_price, last
        ):
            raise new_order_rejected(WOULD_TRIGGER)
        qty = req.quantity
        if qty is None:  # quoteOrderQty MARKET: the quantity is what the budget buys (LOT_SIZE-rounded)
            budget = req.quote_order_qty or ZERO
            qty = sum((q for _, q in book.walk(spec, last, req.side, self.config, quote_budget=budget)), ZERO)
            if qty <= 0:
                raise filter_failure("LOT_SIZE")
        asset, amount = self._reservation(spec, req, qty, last)
        acct = self.spot_account(account)
        if acct.available(asset) < amount:
            raise new_order_rejected(INSUFFICIENT_BALANCE)
        order = self._new_order(account, spec, req, now, client_id, qty)
        order = replace(order, lock_id=self._lock(acct, asset, amount, {order.order_id}))
        self._store(order, batch, "NEW", now)
        batch.touched_spot.setdefault(account, set()).add(asset)
        self._execute_on_arrival(order, spec, last, now, batch)
        return order

    def _reservation(self, spec: SymbolSpec, req: OrderRequest, qty: Decimal, last: Decimal) -> tuple[str, Decimal]:
        if req.side == "SELL":
            return spec.base, qty
        if req.type in LIMIT_LIKE:
            return spec.quote, (req.price or ZERO) * qty
        if req.type in STOP_TYPES:
            return spec.quote, (req.stop_price or ZERO) * qty
        if req.quote_order_qty is not None:
            return spec.quote, req.quote_order_qty
        fills = book.walk(spec, last, "BUY", self.config, qty=qty)
        return spec.quote, sum((p * q for p, q in fills), ZERO)

    def _lock(self, acct: SpotAccount, asset: str, amount: Decimal, holders: set[int]) -> int:
        lock_id = self._next_lock_id
        self._next_lock_id += 1
        acct.lock(asset, amount)
        self.locks[lock_id] = Lock(asset, amount, set(holders))
        return lock_id

    def _store(self, order: SimOrder, batch: _Batch, execution_type: str, now: int,
               trade: Trade | None = None, cancel_client_id: str = "") -> None:
        key = (order.market, order.symbol)
        self.orders[(order.market, order.symbol, order.order_id)] = order
        ids = self.open_ids[key]
        if order.is_open and order.order_id not in ids:
            ids.append(order.order_id)
        elif not order.is_open and order.order_id in ids:
            ids.remove(order.order_id)
            self._release(order)
        batch.events.append(OrderEvent(order, execution_type, now, trade, cancel_client_id))

    def _release(self, order: SimOrder) -> None:
        lock = self.locks.get(order.lock_id)
        if lock is None:
            return
        lock.holders.discard(order.order_id)
        if not lock.holders:
            if lock.amount > 0:
                self.spot_account(order.account).unlock(lock.asset, lock.amount)
            del self.locks[order.lock_id]

    def _execute_on_arrival(self, order: SimOrder, spec: SymbolSpec, ref: Decimal, now: int, batch: _Batch) -> None:
        """Taker execution of a MARKET order or a marketable LIMIT, then IOC/FOK/MARKET expiry."""
        if order.type in STOP_TYPES and not order.triggered:
            return
        is_market = order.type in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")
        if not is_market and not self._is_marketable(spec, order.side, order.price, ref):
            if order.time_in_force in ("IOC", "FOK"):
                ioc = order.time_in_force == "IOC"
                reason = "UNFILLED_IOC_QUANTITY_EXPIRED" if ioc else "UNFILLED_FOK_ORDER_EXPIRED"
                self._expire(order, reason, now, batch)
            return
        if order.time_in_force == "GTX" and not is_market:
            self._expire(order, "REJECTED", now, batch)
            return
        fills = book.walk(spec, ref, order.side, self.config, qty=order.remaining,
                          limit_price=None if is_market else order.price)
        available = sum((q for _, q in fills), ZERO)
        if order.time_in_force == "FOK" and not is_market and available < order.remaining:
            self._expire(order, "UNFILLED_FOK_ORDER_EXPIRED", now, batch)
            return
        for price, qty in fills:
            order = self._fill(order, price, qty, False, now, batch)
        if order.is_open and (is_market or order.time_in_force == "IOC"):
            reason = "INSUFFICIENT_LIQUIDITY" if is_market else "UNFILLED_IOC_QUANTITY_EXPIRED"
            self._expire(order, reason, now, batch)

    def _expire(self, order: SimOrder, reason: str, now: int, batch: _Batch) -> SimOrder:
        order = replace(order, status="EXPIRED", expiry_reason=reason, update_time=now)
        self._store(order, batch, "EXPIRED", now)
        self._touch(order, batch)
        if order.order_list_id >= 0:
            oto.on_list_order_expired(self, order, now, batch)
        return order

    def _touch(self, order: SimOrder, batch: _Batch) -> None:
        spec = self.spec(order.market, order.symbol)
        if order.market is Market.SPOT:
            batch.touched_spot.setdefault(order.account, set()).update({spec.base, spec.quote})
        else:
            batch.touched_futures.setdefault(order.account, set()).add(order.symbol)

    def _fill(self, order: SimOrder, price: Decimal, qty: Decimal, is_maker: bool, now: int,
              batch: _Batch) -> SimOrder:
        spec = self.spec(order.market, order.symbol)
        quote_qty = price * qty
        realized = ZERO
        if order.market is Market.SPOT:
            rate = self.config.maker_commission if is_maker else self.config.taker_commission
            acct = self.spot_account(order.account)
            if order.side == "BUY":
                commission, commission_asset = round_half_up(qty * rate, 8), spec.base
                self._pay(acct, order, spec.quote, quote_qty)
                acct.credit(spec.base, qty - commission)
            else:
                commission, commission_asset = round_half_up(quote_qty * rate, 8), spec.quote
                self._pay(acct, order, spec.base, qty)
                acct.credit(spec.quote, quote_qty - commission)
            acct.update_time = now
            trade_key = (Market.SPOT, spec.symbol)
        else:
            rate = (self.config.futures_maker_commission if is_maker else self.config.futures_taker_commission)
            facct = self.futures_account(order.account)
            commission, commission_asset = round_half_up(quote_qty * rate, 8), spec.quote
            position = facct.position(spec.symbol)
            realized = position.apply_fill(order.side, qty, price)
            position.update_time = now
            facct.wallet[spec.quote] = facct.wallet.get(spec.quote, ZERO) + realized - commission
            facct.update_time = now
            trade_key = (Market.USDM, spec.symbol)
        trade_id = self._next_trade_id[trade_key]
        self._next_trade_id[trade_key] = trade_id + 1
        trade = Trade(
            account=order.account, symbol=order.symbol, trade_id=trade_id, order_id=order.order_id,
            client_order_id=order.client_order_id, order_list_id=order.order_list_id, side=order.side,
            price=price, qty=qty, quote_qty=quote_qty, commission=commission, commission_asset=commission_asset,
            time=now, is_maker=is_maker, realized_pnl=realized, market=order.market,
        )
        self.trades.append(trade)
        executed = order.executed_qty + qty
        order = replace(
            order, executed_qty=executed, cum_quote=order.cum_quote + quote_qty, update_time=now,
            status="FILLED" if executed >= order.orig_qty else "PARTIALLY_FILLED",
        )
        self._store(order, batch, "TRADE", now, trade)
        self._touch(order, batch)
        if order.order_list_id >= 0:
            self._oco_leg_started(order, now, batch)
        return order

    def _pay(self, acct: SpotAccount, order: SimOrder, asset: str, amount: Decimal) -> None:
        """Spend ``amount`` of ``asset`` from the order's lock first, then (overflow) from free."""
        lock = self.locks.get(order.lock_id)
        from_lock = min(lock.amount, amount) if lock is not None else ZERO
        if lock is not None:
            lock.amount -= from_lock
            acct.spend_locked(asset, from_lock)
        if amount > from_lock:
            acct.credit(asset, -(amount - from_lock))

    def cancel(
        self, account: str, market: Market, symbol: str, now: int, order_id: int | None = None,
        client_id: str | None = None, new_client_id: str | None = None,
    ) -> tuple[SimOrder, list[EngineEvent]]:
        order = self.find_order(account, market, symbol, order_id, client_id)
        if order is None or not (order.is_open or order.status == oto.PENDING_NEW):
            raise unknown_order_cancel() if market is Market.SPOT else SimError(-2011, "Unknown order sent.")
        batch = _Batch()
        cancel_id = new_client_id or self.next_client_id()
        if order.order_list_id >= 0:
            self._cancel_list_legs(self.lists[order.order_list_id], now, batch, cancel_id)
        else:
            order = self._cancel_one(order, now, batch, cancel_id)
        return self.orders[(market, symbol, order.order_id)], self._finish(batch, now)

    def _cancel_one(self, order: SimOrder, now: int, batch: _Batch, cancel_id: str) -> SimOrder:
        order = replace(order, status="CANCELED", update_time=now)
        self._store(order, batch, "CANCELED", now, cancel_client_id=cancel_id)
        self._touch(order, batch)
        return order

    def cancel_all(
        self, account: str, market: Market, symbol: str, now: int
    ) -> tuple[list[SimOrder], list[EngineEvent]]:
        batch = _Batch()
        canceled: list[SimOrder] = []
        for order in self.open_orders(account, market, symbol):
            current = self.orders[(market, symbol, order.order_id)]
            if current.is_open:
                canceled.append(self._cancel_one(current, now, batch, self.next_client_id()))
        for order_list in list(self.lists.values()):
            mine = order_list.account == account and order_list.symbol == symbol
            if mine and order_list.list_status_type != "ALL_DONE":
                oto.cancel_pending(self, order_list, now, batch, self.next_client_id())
                self._maybe_close_list(order_list, now, batch)
        return canceled, self._finish(batch, now)

    # ---- OCO order lists --------------------------------------------------------------------------

    def place_oco(
        self, account: str, symbol: str, side: str, quantity: Decimal, above: OrderRequest, below: OrderRequest,
        now: int, list_client_id: str | None = None,
    ) -> tuple[OrderList, list[SimOrder], list[EngineEvent]]:
        """``POST /api/v3/orderList/oco``: ``above``/``below`` legs; one locks funds for both."""
        spec = self.spec(Market.SPOT, symbol)
        if spec.status != "TRADING":
            raise new_order_rejected(MARKET_CLOSED)
        last = self.price(symbol)
        legs = (above, below)
        for leg in legs:
            check_shape(leg, futures=False)
            check_filters(spec, leg, last)
        if below.type == "LIMIT_MAKER":
            raise SimError(-1102, "Mandatory parameter 'belowType' was not sent, was empty/null, or malformed.")
        for leg in legs:
            trigger = leg.stop_price if leg.type in STOP_TYPES else leg.price
            if trigger is None:
                raise new_order_rejected(OCO_PRICES)
            if (leg is above and trigger <= last) or (leg is below and trigger >= last):
                raise new_order_rejected(OCO_PRICES)
            if leg.type == "LIMIT_MAKER" and self._is_marketable(spec, side, trigger, last):
                raise new_order_rejected(WOULD_TAKE)
        client_ids = [leg.client_order_id or self.next_client_id() for leg in legs]
        for client_id, leg in zip(client_ids, legs, strict=True):
            self._check_open_limits(account, spec, client_id, leg.type)
        if side == "SELL":
            asset, amount = spec.base, quantity
        else:
            asset = spec.quote
            amount = max((leg.price or leg.stop_price or ZERO) * quantity for leg in legs)
        acct = self.spot_account(account)
        if acct.available(asset) < amount:
            raise new_order_rejected(INSUFFICIENT_BALANCE)
        list_id = self._next_list_id
        self._next_list_id += 1
        batch = _Batch()
        orders: list[SimOrder] = []
        for client_id, leg in zip(client_ids, legs, strict=True):
            orders.append(self._new_order(account, spec, leg, now, client_id, quantity, list_id))
        lock_id = self._lock(acct, asset, amount, {o.order_id for o in orders})
        orders = [replace(o, lock_id=lock_id) for o in orders]
        # Binance lists the stop leg first in the response (the docs example), keep order ids ascending.
        order_list = OrderList(
            account=account, symbol=symbol, order_list_id=list_id,
            list_client_order_id=list_client_id or self.next_client_id(),
            order_ids=tuple(o.order_id for o in orders), client_order_ids=tuple(o.client_order_id for o in orders),
            transaction_time=now,
        )
        self.lists[list_id] = order_list
        batch.events.append(ListEvent(order_list, now))
        for order in orders:
            self._store(order, batch, "NEW", now)
        batch.touched_spot.setdefault(account, set()).add(asset)
        return order_list, [self.orders[(Market.SPOT, symbol, o.order_id)] for o in orders], self._finish(batch, now)

    def cancel_list(self, account: str, symbol: str, now: int, list_id: int | None = None,
                    list_client_id: str | None = None) -> tuple[OrderList, list[SimOrder], list[EngineEvent]]:
        self.spec(Market.SPOT, symbol)
        found = [
            lst for lst in self.lists.values()
            if lst.account == account and lst.symbol == symbol
            and (lst.order_list_id == list_id if list_id is not None else lst.list_client_order_id == list_client_id)
        ]
        if not found or found[-1].list_status_type == "ALL_DONE":
            raise SimError(-2011, "Order list does not exist." if not found else "Unknown order sent.")
        order_list = found[-1]
        batch = _Batch()
        self._cancel_list_legs(order_list, now, batch, self.next_client_id())
        orders = [self.orders[(Market.SPOT, symbol, i)] for i in order_list.order_ids]
        return self.lists[order_list.order_list_id], orders, self._finish(batch, now)

    def _cancel_list_legs(self, order_list: OrderList, now: int, batch: _Batch, cancel_id: str) -> None:
        for order_id in order_list.order_ids:
            leg = self.orders[(Market.SPOT, order_list.symbol, order_id)]
            if leg.is_open:
                self._cancel_one(leg, now, batch, cancel_id)
        oto.cancel_pending(self, order_list, now, batch, cancel_id)
        self._maybe_close_list(order_list, now, batch)

    def _oco_leg_started(self, order: SimOrder, now: int, batch: _Batch) -> None:
        """A leg traded or triggered: the other legs expire (``OCO_TRIGGER``); OTO lists: ``oto``."""
        if oto.on_list_order_started(self, order, now, batch):
            return
        order_list = self.lists[order.order_list_id]
        for order_id in order_list.order_ids:
            other = self.orders[(Market.SPOT, order.symbol, order_id)]
            if order_id != order.order_id and other.is_open:
                self._expire(other, "OCO_TRIGGER", now, batch)
        self._maybe_close_list(order_list, now, batch)

    def _maybe_close_list(self, order_list: OrderList, now: int, batch: _Batch) -> None:
        current = self.lists[order_list.order_list_id]
        if current.list_status_type == "ALL_DONE":
            return
        legs = [self.orders[(Market.SPOT, current.symbol, i)] for i in current.order_ids]
        if all(not leg.is_open and leg.status != oto.PENDING_NEW for leg in legs):
            done = replace(current, list_status_type="ALL_DONE", list_order_status="ALL_DONE")
            self.lists[current.order_list_id] = done
            batch.events.append(ListEvent(done, now))

    # ---- the replayed price moves ------------------------------------------------------------------

    def move_price(
        self, symbol: str, to: Decimal, now: int, volume: Decimal = ZERO, gap: bool = False
    ) -> list[EngineEvent]:
        """The market traded continuously from the last price to ``to`` (or jumped, when ``gap``).

        Stops whose price lies on the way trigger (in the order the path reaches them); resting
        limits the path trades *through* (or touches, with ``fill_on_touch``) fill at their price.
        """
        start = self.last.get(symbol)
        self.last[symbol] = to
        if start is None:
            return []
        batch = _Batch()
        for market in (Market.SPOT, Market.USDM):
            if (market, symbol) not in self.specs:
                continue
            starts = self._trigger_stops(market, symbol, start, to, gap, now, batch)
            self._fill_resting(market, symbol, start, to, volume, starts, now, batch)
        return self._finish(batch, now)

    def _trigger_stops(self, market: Market, symbol: str, start: Decimal, end: Decimal, gap: bool, now: int,
                       batch: _Batch) -> dict[int, Decimal]:
        low, high = min(start, end), max(start, end)
        rising = end > start
        starts: dict[int, Decimal] = {}
        pending: list[tuple[Decimal, int, SimOrder | AlgoOrder]] = []
        for order_id in list(self.open_ids[(market, symbol)]):
            order = self.orders[(market, symbol, order_id)]
            if order.type in STOP_TYPES and not order.triggered:
                pending.append((order.stop_price, order.order_id, order))
        for algo in self.algos.values():
            if market is Market.USDM and algo.symbol == symbol and algo.is_open:
                pending.append((algo.trigger_price, algo.algo_id, algo))
        pending.sort(key=lambda item: (item[0] if rising else -item[0], item[1]))
        for stop, _, item in pending:
            kind = item.type if isinstance(item, SimOrder) else item.order_type
            up = triggers_upward(kind, item.side)
            if not (low <= stop <= high) or (up and not rising) or (not up and rising):
                continue
            price = end if gap else stop
            if isinstance(item, SimOrder):
                current = self.orders[(market, symbol, item.order_id)]
                if current.is_open:
                    starts[current.order_id] = price
                    self._trigger_order(current, price, now, batch)
            else:
                self._trigger_algo(self.algos[item.algo_id], price, now, batch)
        return starts

    def _trigger_order(self, order: SimOrder, price: Decimal, now: int, batch: _Batch) -> None:
        order = replace(order, triggered=True, working_time=now, update_time=now)
        self.orders[(order.market, order.symbol, order.order_id)] = order
        if order.order_list_id >= 0:
            self._oco_leg_started(order, now, batch)
        self._execute_on_arrival(order, self.spec(order.market, order.symbol), price, now, batch)

    def _fill_resting(self, market: Market, symbol: str, start: Decimal, end: Decimal, volume: Decimal,
                      starts: dict[int, Decimal], now: int, batch: _Batch) -> None:
        touch = self.config.fill_on_touch
        cap = self.config.participation * volume if self.config.participation is not None else None
        candidates = []
        for order_id in list(self.open_ids[(market, symbol)]):
            order = self.orders[(market, symbol, order_id)]
            if order.type not in LIMIT_LIKE or not order.is_working:
                continue
            seg_start = starts.get(order_id, start)
            low, high = min(seg_start, end), max(seg_start, end)
            if order.side == "BUY":
                hit = low <= order.price if touch else low < order.price
            else:
                hit = high >= order.price if touch else high > order.price
            if hit:
                candidates.append(order)
        falling = end < start
        candidates.sort(key=lambda o: (-o.price if falling else o.price, o.order_id))
        for order in candidates:
            current = self.orders[(market, symbol, order.order_id)]
            if not current.is_open:
                continue
            qty = current.remaining
            if cap is not None:  # no volume traded on this segment (e.g. a gap): nothing to take part in
                qty = min(qty, _floor(cap, self.spec(market, symbol).step_size))
                if qty <= 0:
                    continue
            self._fill(current, current.price, qty, True, now, batch)

    # ---- USD-M --------------------------------------------------------------------------------------

    def leverage(self, account: str, symbol: str) -> int:
        return self.futures_account(account).leverage.get(symbol, self.config.default_leverage)

    def set_leverage(self, account: str, symbol: str, leverage: int) -> int:
        self.spec(Market.USDM, symbol)
        if not 1 <= leverage <= 125:
            raise SimError(-4028, "Leverage is not valid")
        self.futures_account(account).leverage[symbol] = leverage
        return leverage

    def set_margin_type(self, account: str, symbol: str, margin_type: str) -> None:
        self.spec(Market.USDM, symbol)
        wanted = {"ISOLATED": "isolated", "CROSSED": "cross"}.get(margin_type)
        if wanted is None:
            raise SimError(-1116, "Invalid marginType.")
        acct = self.futures_account(account)
        if acct.margin_type.get(symbol, "cross") == wanted:
            raise SimError(-4046, "No need to change margin type.")
        acct.margin_type[symbol] = wanted

    def available_margin(self, account: str) -> Decimal:
        acct = self.futures_account(account)
        equity = acct.wallet.get("USDT", ZERO)
        used = ZERO
        for symbol, pos in acct.positions.items():
            mark = self.price(symbol)
            equity += (mark - pos.entry) * pos.amt
            used += abs(pos.amt) * mark / self.leverage(account, symbol)
        for order in self.open_orders(account, Market.USDM):
            if not order.reduce_only:
                price = order.price if order.price > 0 else self.price(order.symbol)
                used += order.remaining * price / self.leverage(account, order.symbol)
        return equity - used

    def _place_futures(self, account: str, spec: SymbolSpec, req: OrderRequest, now: int, batch: _Batch) -> SimOrder:
        client_id = req.client_order_id or self.next_client_id()
        self._check_open_limits(account, spec, client_id, req.type)
        qty = req.quantity or ZERO
        acct = self.futures_account(account)
        position = acct.position(spec.symbol)
        if req.reduce_only:
            if position.amt == 0 or (req.side == "BUY") == (position.amt > 0):
                raise SimError(-2022, "ReduceOnly Order is rejected.")
            qty = min(qty, abs(position.amt))
        else:
            price = req.price or self.price(spec.symbol)
            if qty * price / self.leverage(account, spec.symbol) > self.available_margin(account):
                raise SimError(-2019, "Margin is insufficient.")
        order = self._new_order(account, spec, req, now, client_id, qty)
        self._store(order, batch, "NEW", now)
        self._execute_on_arrival(order, spec, self.price(spec.symbol), now, batch)
        return order

    def place_algo(self, account: str, req: OrderRequest, trigger_price: Decimal | None, working_type: str,
                   now: int, client_algo_id: str | None = None) -> tuple[AlgoOrder, list[EngineEvent]]:
        spec = self.spec(Market.USDM, req.symbol)
        if spec.status != "TRADING":
            raise new_order_rejected(MARKET_CLOSED)
        if req.type not in ALGO_TYPES:
            raise SimError(-1116, "Invalid orderType.")
        if trigger_price is None:
            raise mandatory("triggerPrice")
        if req.side not in ("BUY", "SELL"):
            raise SimError(-1117, "Invalid side.")
        if req.quantity is None and not req.close_position:
            raise mandatory("quantity")
        if req.type in ("STOP", "TAKE_PROFIT") and req.price is None:
            raise mandatory("price")
        check_filters(spec, replace(req, stop_price=trigger_price, reduce_only=True), self.price(req.symbol))
        if would_trigger(req.type, req.side, trigger_price, self.price(req.symbol)):
            raise SimError(-2021, "Order would immediately trigger.")
        algo_id = self._next_algo_id
        self._next_algo_id += 1
        algo = AlgoOrder(
            account=account, symbol=req.symbol, algo_id=algo_id, client_algo_id=client_algo_id or self.next_client_id(),
            order_type=req.type, side=req.side, position_side=req.position_side,
            time_in_force=req.time_in_force or "GTC", quantity=req.quantity or ZERO, trigger_price=trigger_price,
            price=req.price or ZERO, working_type=working_type, reduce_only=req.reduce_only,
            close_position=req.close_position, create_time=now, update_time=now,
        )
        self.algos[algo_id] = algo
        return algo, [AlgoEvent(algo, now)]

    def find_algo(self, account: str, algo_id: int | None, client_algo_id: str | None) -> AlgoOrder | None:
        for algo in reversed(list(self.algos.values())):
            by_id = algo.algo_id == algo_id
            by_client = algo_id is None and algo.client_algo_id == client_algo_id
            if algo.account == account and (by_id or by_client):
                return algo
        return None

    def cancel_algo(self, account: str, now: int, algo_id: int | None = None,
                    client_algo_id: str | None = None) -> tuple[AlgoOrder, list[EngineEvent]]:
        algo = self.find_algo(account, algo_id, client_algo_id)
        if algo is None or not algo.is_open:
            raise SimError(-2011, "Unknown order sent.")
        algo = replace(algo, algo_status="CANCELED", update_time=now)
        self.algos[algo.algo_id] = algo
        return algo, [AlgoEvent(algo, now)]

    def _trigger_algo(self, algo: AlgoOrder, price: Decimal, now: int, batch: _Batch) -> None:
        acct = self.futures_account(algo.account)
        position = acct.position(algo.symbol)
        algo = replace(algo, algo_status="TRIGGERING", trigger_time=now, update_time=now)
        self.algos[algo.algo_id] = algo
        batch.events.append(AlgoEvent(algo, now))
        reduce = algo.reduce_only or algo.close_position
        qty = abs(position.amt) if algo.close_position else algo.quantity
        if reduce:
            closes = position.amt != 0 and (algo.side == "BUY") == (position.amt < 0)
            qty = min(qty, abs(position.amt)) if closes else ZERO
        if qty <= 0:
            algo = replace(algo, algo_status="EXPIRED", update_time=now)
            self.algos[algo.algo_id] = algo
            batch.events.append(AlgoEvent(algo, now))
            return
        spec = self.spec(Market.USDM, algo.symbol)
        child_type = "MARKET" if algo.order_type.endswith("MARKET") else "LIMIT"
        req = OrderRequest(symbol=algo.symbol, side=algo.side, type=child_type, quantity=qty,
                           price=algo.price if child_type == "LIMIT" else None,
                           time_in_force="GTC" if child_type == "LIMIT" else None, reduce_only=reduce)
        child = replace(self._new_order(algo.account, spec, req, now, algo.client_algo_id, qty),
                        orig_type=algo.order_type)
        algo = replace(algo, algo_status="TRIGGERED", actual_order_id=child.order_id, update_time=now)
        self.algos[algo.algo_id] = algo
        batch.events.append(AlgoEvent(algo, now))
        self._store(child, batch, "NEW", now)
        self._execute_on_arrival(child, spec, price, now, batch)
        child = self.orders[(Market.USDM, algo.symbol, child.order_id)]
        if not child.is_open:
            algo = replace(algo, algo_status="FINISHED", update_time=now)
            self.algos[algo.algo_id] = algo
            batch.events.append(AlgoEvent(algo, now))

    def apply_funding(self, symbol: str, rate: Decimal, now: int) -> list[EngineEvent]:
        """Funding at ``nextFundingTime``: longs pay ``rate × notional`` to shorts (rate > 0)."""
        batch = _Batch(funding=True)
        mark = self.price(symbol)
        for account, acct in self.futures_accounts.items():
            position = acct.positions.get(symbol)
            if position is None or position.amt == 0:
                continue
            fee = round_half_up(-position.amt * mark * rate, 8)
            acct.wallet["USDT"] = acct.wallet.get("USDT", ZERO) + fee
            acct.update_time = now
            batch.touched_futures.setdefault(account, set()).add(symbol)
        return self._finish(batch, now)

    # ---- wrap-up ------------------------------------------------------------------------------------

    def _finish(self, batch: _Batch, now: int) -> list[EngineEvent]:
        for account, assets in sorted(batch.touched_spot.items()):
            batch.events.append(BalanceEvent(account, Market.SPOT, self.spot_account(account).view(assets), now))
        for account, symbols in sorted(batch.touched_futures.items()):
            acct = self.futures_account(account)
            leverage = self.config.default_leverage
            positions = tuple(acct.position_view(s, self.price(s), leverage) for s in sorted(symbols))
            batch.events.append(BalanceEvent(account, Market.USDM, acct.balances(), now,
                                             "FUNDING_FEE" if batch.funding else "ORDER", positions))
        return batch.events


def _floor(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding="ROUND_FLOOR") * step if step > 0 else value
