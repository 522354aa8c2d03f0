"""The matching engine: the bot's orders against a replayed price path, for every account.

Pure and deterministic: no I/O, no wall clock (``now`` is passed in), Decimal arithmetic. The
server (``exchange_sim.server``) and the in-process paper venue (``exchange_sim.paper_venue``) drive the
same instance type, so backtests, paper trading and integration tests fill orders identically.

Every mutating call returns the events it caused, in order (execution reports, then the balance
change), which the callers turn into executionReport / ORDER_TRADE_UPDATE / venue reports.

This class places, fills, expires and cancels orders and moves the price; its collaborators keep
the rest: ``registry`` (orders, trades, ids), ``funds`` (balances, locks, positions, margin; fees
via ``fees``), ``triggers`` / ``price_path`` (what a price move reaches and does), ``placement``
(new orders), ``algos`` (USD-M conditional orders),
``order_lists`` (OCO) and ``oto`` (OTO / OTOCO).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import algos, book, order_lists, oto, placement, price_path
from ictbot.exchange_sim.engine.accounts import FuturesAccount, SpotAccount
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.engine.funds import Funds
from ictbot.exchange_sim.engine.model import (
    STOP_TYPES,
    AlgoEvent,
    AlgoOrder,
    EngineEvent,
    OrderEvent,
    OrderList,
    OrderRequest,
    PositionView,
    SimOrder,
    Trade,
)
from ictbot.exchange_sim.engine.registry import OrderRegistry
from ictbot.exchange_sim.errors import (
    SimError,
    invalid_symbol,
    unknown_order_cancel,
)
from ictbot.exchange_sim.symbols import SymbolSpec

ZERO = Decimal(0)
_MARKET_TYPES = ("MARKET", "STOP_LOSS", "TAKE_PROFIT")


class MatchingEngine:
    def __init__(self, config: MatchingConfig, specs: Iterable[SymbolSpec] = ()) -> None:
        self.config = config
        self.specs: dict[tuple[Market, str], SymbolSpec] = {}
        self.last: dict[str, Decimal] = {}
        self.registry = OrderRegistry()
        self.funds = Funds(config)
        self.algo_book = algos.AlgoBook()
        self.lists: dict[int, OrderList] = {}
        # The collaborators' containers under the names the server, paper venue and tests read.
        self.orders = self.registry.orders
        self.open_ids = self.registry.open_ids
        self.trades = self.registry.trades
        self.spot_accounts = self.funds.spot_accounts
        self.futures_accounts = self.funds.futures_accounts
        self.locks = self.funds.locks
        self.algos = self.algo_book.algos
        for spec in specs:
            self.add_symbol(spec)

    # ---- set-up ---------------------------------------------------------------------------------

    def add_symbol(self, spec: SymbolSpec, price: Decimal | None = None) -> None:
        self.specs[(spec.market, spec.symbol)] = spec
        self.registry.add_symbol((spec.market, spec.symbol))
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
        return self.funds.spot_account(account)

    def futures_account(self, account: str) -> FuturesAccount:
        return self.funds.futures_account(account)

    def price(self, symbol: str) -> Decimal:
        return self.last.get(symbol, ZERO)

    def next_client_id(self) -> str:
        return self.registry.next_client_id()

    # ---- queries --------------------------------------------------------------------------------

    def find_order(
        self, account: str, market: Market, symbol: str, order_id: int | None = None, client_id: str | None = None
    ) -> SimOrder | None:
        self.spec(market, symbol)
        return self.registry.find(account, market, symbol, order_id, client_id)

    def open_orders(self, account: str, market: Market, symbol: str | None = None) -> list[SimOrder]:
        return self.registry.open_orders(account, market, symbol)

    def all_orders(self, account: str, market: Market, symbol: str) -> list[SimOrder]:
        return self.registry.all_orders(account, market, symbol)

    def account_trades(self, account: str, market: Market, symbol: str) -> list[Trade]:
        return self.registry.account_trades(account, market, symbol)

    def positions(self, account: str) -> list[PositionView]:
        acct = self.futures_account(account)
        symbols = sorted({s for (m, s) in self.specs if m is Market.USDM})
        return [acct.position_view(s, self.price(s), self.config.default_leverage) for s in symbols]

    def open_algos(self, account: str, symbol: str | None = None) -> list[AlgoOrder]:
        return self.algo_book.open_for(account, symbol)

    # ---- placing ----------------------------------------------------------------------------------

    def place(self, account: str, market: Market, req: OrderRequest, now: int) -> tuple[SimOrder, list[EngineEvent]]:
        """Validate and place one order; raises ``SimError`` (no order is created) when refused."""
        return placement.place(self, account, market, req, now)

    # ---- order state changes ----------------------------------------------------------------------

    def store(self, order: SimOrder, batch: Batch, execution_type: str, now: int,
              trade: Trade | None = None, cancel_client_id: str = "") -> None:
        """Record the order's new state with its execution report; a closed order releases its lock."""
        if self.registry.record(order):
            self.funds.release(order)
        batch.events.append(OrderEvent(order, execution_type, now, trade, cancel_client_id))

    def _touch(self, order: SimOrder, batch: Batch) -> None:
        spec = self.spec(order.market, order.symbol)
        if order.market is Market.SPOT:
            batch.touch_spot(order.account, spec.base, spec.quote)
        else:
            batch.touch_futures(order.account, order.symbol)

    def execute_on_arrival(self, order: SimOrder, spec: SymbolSpec, ref: Decimal, now: int, batch: Batch) -> None:
        """Taker execution of a MARKET order or a marketable LIMIT, then IOC/FOK/MARKET expiry."""
        if order.type in STOP_TYPES and not order.triggered:
            return
        is_market = order.type in _MARKET_TYPES
        if not is_market and not book.is_marketable(spec, order.side, order.price, ref, self.config):
            if order.time_in_force in ("IOC", "FOK"):
                ioc = order.time_in_force == "IOC"
                self.expire(order, "UNFILLED_IOC_QUANTITY_EXPIRED" if ioc else "UNFILLED_FOK_ORDER_EXPIRED", now, batch)
            return
        if order.time_in_force == "GTX" and not is_market:
            self.expire(order, "REJECTED", now, batch)
            return
        fills = book.walk(spec, ref, order.side, self.config, qty=order.remaining,
                          limit_price=None if is_market else order.price)
        available = sum((q for _, q in fills), ZERO)
        if order.time_in_force == "FOK" and not is_market and available < order.remaining:
            self.expire(order, "UNFILLED_FOK_ORDER_EXPIRED", now, batch)
            return
        for price, qty in fills:
            order = self.fill(order, price, qty, False, now, batch)
        if order.is_open and (is_market or order.time_in_force == "IOC"):
            self.expire(order, "INSUFFICIENT_LIQUIDITY" if is_market else "UNFILLED_IOC_QUANTITY_EXPIRED", now, batch)

    def expire(self, order: SimOrder, reason: str, now: int, batch: Batch) -> SimOrder:
        order = replace(order, status="EXPIRED", expiry_reason=reason, update_time=now)
        self.store(order, batch, "EXPIRED", now)
        self._touch(order, batch)
        if order.order_list_id >= 0:
            oto.on_list_order_expired(self, order, now, batch)
        return order

    def fill(self, order: SimOrder, price: Decimal, qty: Decimal, is_maker: bool, now: int,
              batch: Batch) -> SimOrder:
        spec = self.spec(order.market, order.symbol)
        commission, commission_asset, realized = self.funds.settle_fill(order, spec, price, qty, is_maker, now)
        quote_qty = price * qty
        trade = Trade(
            account=order.account, symbol=order.symbol, trade_id=self.registry.next_trade_id(spec.market, spec.symbol),
            order_id=order.order_id, client_order_id=order.client_order_id, order_list_id=order.order_list_id,
            side=order.side, price=price, qty=qty, quote_qty=quote_qty, commission=commission,
            commission_asset=commission_asset, time=now, is_maker=is_maker, realized_pnl=realized,
            market=order.market,
        )
        self.trades.append(trade)
        executed = order.executed_qty + qty
        order = replace(
            order, executed_qty=executed, cum_quote=order.cum_quote + quote_qty, update_time=now,
            status="FILLED" if executed >= order.orig_qty else "PARTIALLY_FILLED",
        )
        self.store(order, batch, "TRADE", now, trade)
        self._touch(order, batch)
        if order.order_list_id >= 0:
            order_lists.leg_started(self, order, now, batch)
        return order

    # ---- cancelling -------------------------------------------------------------------------------

    def cancel(
        self, account: str, market: Market, symbol: str, now: int, order_id: int | None = None,
        client_id: str | None = None, new_client_id: str | None = None,
    ) -> tuple[SimOrder, list[EngineEvent]]:
        """Cancel one order; an order of a list cancels the whole list."""
        order = self.find_order(account, market, symbol, order_id, client_id)
        if order is None or not (order.is_open or order.status == oto.PENDING_NEW):
            raise unknown_order_cancel() if market is Market.SPOT else SimError(-2011, "Unknown order sent.")
        batch = Batch()
        cancel_id = new_client_id or self.next_client_id()
        if order.order_list_id >= 0:
            order_lists.cancel_legs(self, self.lists[order.order_list_id], now, batch, cancel_id)
        else:
            order = self.cancel_one(order, now, batch, cancel_id)
        return self.registry.current(order), self.finish(batch, now)

    def cancel_one(self, order: SimOrder, now: int, batch: Batch, cancel_id: str) -> SimOrder:
        order = replace(order, status="CANCELED", update_time=now)
        self.store(order, batch, "CANCELED", now, cancel_client_id=cancel_id)
        self._touch(order, batch)
        return order

    def cancel_all(
        self, account: str, market: Market, symbol: str, now: int
    ) -> tuple[list[SimOrder], list[EngineEvent]]:
        batch = Batch()
        canceled: list[SimOrder] = []
        for order in self.open_orders(account, market, symbol):
            current = self.registry.current(order)
            if current.is_open:
                canceled.append(self.cancel_one(current, now, batch, self.next_client_id()))
        for order_list in list(self.lists.values()):
            mine = order_list.account == account and order_list.symbol == symbol
            if mine and order_list.list_status_type != "ALL_DONE":
                oto.cancel_pending(self, order_list, now, batch, self.next_client_id())
                order_lists.maybe_close(self, order_list, now, batch)
        return canceled, self.finish(batch, now)

    # ---- order lists ------------------------------------------------------------------------------

    def place_oco(
        self, account: str, symbol: str, side: str, quantity: Decimal, above: OrderRequest, below: OrderRequest,
        now: int, list_client_id: str | None = None,
    ) -> tuple[OrderList, list[SimOrder], list[EngineEvent]]:
        """``POST /api/v3/orderList/oco``: ``above``/``below`` legs; one locks funds for both."""
        return order_lists.place_oco(self, account, symbol, side, quantity, (above, below), now, list_client_id)

    def maybe_close_list(self, order_list: OrderList, now: int, batch: Batch) -> None:
        order_lists.maybe_close(self, order_list, now, batch)

    def cancel_list(self, account: str, symbol: str, now: int, list_id: int | None = None,
                    list_client_id: str | None = None) -> tuple[OrderList, list[SimOrder], list[EngineEvent]]:
        return order_lists.cancel_list(self, account, symbol, now, list_id, list_client_id)

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
        batch = Batch()
        for market in (Market.SPOT, Market.USDM):
            if (market, symbol) not in self.specs:
                continue
            starts = price_path.trigger_stops(self, market, symbol, start, to, gap, now, batch)
            price_path.fill_resting(self, market, symbol, start, to, volume, starts, now, batch)
        return self.finish(batch, now)

    def trigger_order(self, order: SimOrder, price: Decimal, now: int, batch: Batch) -> None:
        order = replace(order, triggered=True, working_time=now, update_time=now)
        self.registry.record(order)
        if order.order_list_id >= 0:
            order_lists.leg_started(self, order, now, batch)
        self.execute_on_arrival(order, self.spec(order.market, order.symbol), price, now, batch)

    # ---- USD-M --------------------------------------------------------------------------------------

    def leverage(self, account: str, symbol: str) -> int:
        return self.funds.leverage(account, symbol)

    def set_leverage(self, account: str, symbol: str, leverage: int) -> int:
        self.spec(Market.USDM, symbol)
        return self.funds.set_leverage(account, symbol, leverage)

    def set_margin_type(self, account: str, symbol: str, margin_type: str) -> None:
        self.spec(Market.USDM, symbol)
        self.funds.set_margin_type(account, symbol, margin_type)

    def available_margin(self, account: str) -> Decimal:
        return self.funds.available_margin(account, self.price, self.open_orders(account, Market.USDM))

    def place_algo(self, account: str, req: OrderRequest, trigger_price: Decimal | None, working_type: str,
                   now: int, client_algo_id: str | None = None) -> tuple[AlgoOrder, list[EngineEvent]]:
        spec = self.spec(Market.USDM, req.symbol)
        trigger_at = algos.check_algo(spec, req, trigger_price, self.price(req.symbol))
        algo = self.algo_book.add(account, req, trigger_at, working_type, now,
                                  client_algo_id or self.next_client_id())
        return algo, [AlgoEvent(algo, now)]

    def find_algo(self, account: str, algo_id: int | None, client_algo_id: str | None) -> AlgoOrder | None:
        return self.algo_book.find(account, algo_id, client_algo_id)

    def cancel_algo(self, account: str, now: int, algo_id: int | None = None,
                    client_algo_id: str | None = None) -> tuple[AlgoOrder, list[EngineEvent]]:
        algo = self.find_algo(account, algo_id, client_algo_id)
        if algo is None or not algo.is_open:
            raise SimError(-2011, "Unknown order sent.")
        algo = self.algo_book.update(algo, "CANCELED", now)
        return algo, [AlgoEvent(algo, now)]

    def apply_funding(self, symbol: str, rate: Decimal, now: int) -> list[EngineEvent]:
        """Funding at ``nextFundingTime``: longs pay ``rate × notional`` to shorts (rate > 0)."""
        batch = Batch(funding=True)
        self.funds.apply_funding(symbol, self.price(symbol), rate, now, batch)
        return self.finish(batch, now)

    # ---- wrap-up ------------------------------------------------------------------------------------

    def finish(self, batch: Batch, now: int) -> list[EngineEvent]:
        """The call's events followed by the balance change of every account it touched."""
        batch.events.extend(self.funds.balance_events(batch, self.price, now))
        return batch.events
