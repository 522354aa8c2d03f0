"""In-process paper venue: ``ExecutionVenue`` on the simulator's matching engine.

Backtests and paper trading fill orders with exactly the code the Binance-protocol simulator
uses (same intra-candle path, fees, filters, OCO and stop semantics), without any network.
The driver feeds market data with ``on_candle`` (closed candles, e.g. from a backtest) or
``on_price``; fills are returned and also delivered through ``order_updates()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal

from ictbot.domain.candle import Candle
from ictbot.domain.errors import (
    DuplicateOrderError,
    FilterFailureError,
    FinalError,
    InsufficientBalanceError,
    OrderNotFoundError,
    UnknownSymbolError,
)
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.order import Fill, Order, OrderSide, OrderStatus, OrderType
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.engine.matching import MatchingEngine
from ictbot.exchange_sim.engine.model import (
    AlgoEvent,
    AlgoOrder,
    EngineEvent,
    OrderEvent,
    OrderRequest,
    SimOrder,
    Trade,
)
from ictbot.exchange_sim.errors import DUPLICATE_ORDER, INSUFFICIENT_BALANCE, SimError
from ictbot.exchange_sim.market.path import candle_path
from ictbot.exchange_sim.symbols import SymbolSpec, spec_for
from ictbot.instruments import InstrumentCatalogue
from ictbot.ports.clock import Clock
from ictbot.ports.venue import Balance, VenueOrderReport, VenuePosition

ALGO_TYPES = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})


def translate(error: SimError) -> FinalError:
    """Binance error → the project's error hierarchy (as the live adapter would)."""
    code, msg = error.code, error.msg
    if (code == -2010 and msg == INSUFFICIENT_BALANCE) or code == -2019:
        return InsufficientBalanceError(msg, code, error.http_status)
    if code in (-2010, -4116) and (msg == DUPLICATE_ORDER or code == -4116):
        return DuplicateOrderError(msg, code, error.http_status)
    if code in (-1013, -4164, -1111) or msg.startswith("Filter failure"):
        return FilterFailureError(msg, code, error.http_status)
    if code == -1121:
        return UnknownSymbolError(msg, code, error.http_status)
    if code in (-2011, -2013):
        return OrderNotFoundError(msg, code, error.http_status)
    return FinalError(msg, code, error.http_status)


def _fill(trade: Trade) -> Fill:
    return Fill(trade_id=str(trade.trade_id), client_order_id=trade.client_order_id, symbol=trade.symbol,
                side=OrderSide(trade.side), price=trade.price, qty=trade.qty, fee=trade.commission,
                fee_asset=trade.commission_asset, time=trade.time, is_maker=trade.is_maker)


def report(order: SimOrder, trades: Iterable[Trade] = (), time: int | None = None,
           list_client_id: str = "") -> VenueOrderReport:
    return VenueOrderReport(
        client_order_id=order.client_order_id, symbol=order.symbol, status=OrderStatus(order.status),
        exchange_order_id=str(order.order_id), executed_qty=order.executed_qty, cumulative_quote=order.cum_quote,
        fills=tuple(_fill(t) for t in trades), time=order.update_time if time is None else time,
        reason="" if order.expiry_reason == "NONE" else order.expiry_reason, list_client_id=list_client_id,
        # The order's terms let reconciliation adopt an order its journal lost.
        side=OrderSide(order.side), type=OrderType(order.type) if order.type in OrderType.__members__ else None,
        quantity=order.orig_qty, price=order.price if order.price > 0 else None,
        stop_price=order.stop_price if order.stop_price > 0 else None,
        reduce_only=bool(getattr(order, "reduce_only", False)),
    )


def algo_report(algo: AlgoOrder) -> VenueOrderReport:
    status = {"NEW": OrderStatus.NEW, "CANCELED": OrderStatus.CANCELED, "EXPIRED": OrderStatus.EXPIRED,
              "REJECTED": OrderStatus.REJECTED}.get(algo.algo_status, OrderStatus.NEW)
    return VenueOrderReport(client_order_id=algo.client_algo_id, symbol=algo.symbol, status=status,
                            exchange_order_id=f"algo-{algo.algo_id}", time=algo.update_time)


class PaperVenue:
    """``ExecutionVenue`` for paper trading and backtests (one account, one market)."""

    def __init__(self, clock: Clock, *, market: Market = Market.SPOT, config: MatchingConfig | None = None,
                 engine: MatchingEngine | None = None, account: str = "paper", path_mode: str = "ohlc",
                 seed: int = 0, catalogue: InstrumentCatalogue | None = None) -> None:
        self.clock = clock
        self.catalogue = catalogue  # None: the process-wide catalogue (ictbot.instruments)
        self.market = market
        self.engine = engine or MatchingEngine(config or MatchingConfig())
        self.account = account
        self.path_mode = path_mode
        self.seed = seed
        self._updates: asyncio.Queue[VenueOrderReport] = asyncio.Queue()
        self._list_ids: dict[int, str] = {}

    # ---- set-up and market data ------------------------------------------------------------------

    def add_symbol(self, symbol: str, price: Decimal, spec: SymbolSpec | None = None) -> SymbolSpec:
        spec = spec or spec_for(symbol, self.market, price, catalogue=self.catalogue)
        self.engine.add_symbol(spec, price)
        return spec

    def on_price(self, symbol: str, price: Decimal, volume: Decimal = Decimal(0)) -> list[VenueOrderReport]:
        return self._publish(self.engine.move_price(symbol, price, self.clock.now_ms(), volume))

    def on_candle(self, candle: Candle) -> list[VenueOrderReport]:
        """Play a candle's intra-candle path (the simulator's path model): stops and limits fill on it."""
        if candle.symbol not in self.engine.last:
            self.add_symbol(candle.symbol, candle.open)
        points = candle_path(candle.open_time, candle.timeframe.ms, candle.open, candle.high, candle.low,
                             candle.close, mode=self.path_mode, seed=self.seed, symbol=candle.symbol)
        share = candle.volume / (len(points) - 1)
        reports: list[VenueOrderReport] = []
        previous = self.engine.last.get(candle.symbol)
        for k, point in enumerate(points):
            gap = k == 0 and previous is not None and previous != point.price
            events = self.engine.move_price(candle.symbol, point.price, point.time, share if k else Decimal(0), gap)
            reports.extend(self._publish(events))
        return reports

    # ---- ExecutionVenue ----------------------------------------------------------------------------

    async def instruments(self) -> dict[str, Instrument]:
        return {s.symbol: s.to_instrument() for (m, _), s in self.engine.specs.items() if m is self.market}

    def _request(self, order: Order) -> OrderRequest:
        return OrderRequest(
            symbol=order.symbol, side=order.side.value, type=order.type.value, quantity=order.quantity,
            price=order.price, stop_price=order.stop_price,
            time_in_force=order.time_in_force.value if order.time_in_force else None,
            client_order_id=order.client_order_id, reduce_only=order.reduce_only,
        )

    async def place_order(self, order: Order) -> VenueOrderReport:
        now = self.clock.now_ms()
        try:
            if order.type in ALGO_TYPES:
                req = OrderRequest(symbol=order.symbol, side=order.side.value, type=order.type.value,
                                   quantity=order.quantity, client_order_id=order.client_order_id,
                                   reduce_only=order.reduce_only)
                algo, events = self.engine.place_algo(self.account, req, order.stop_price, "CONTRACT_PRICE", now,
                                                      order.client_order_id)
                self._publish(events)
                return algo_report(algo)
            placed, events = self.engine.place(self.account, self.market, self._request(order), now)
        except SimError as error:
            raise translate(error) from error
        self._publish(events)
        trades = [e.trade for e in events
                  if isinstance(e, OrderEvent) and e.trade and e.order.order_id == placed.order_id]
        return report(placed, trades, now)

    async def place_oco(self, stop: Order, target: Order, list_client_id: str) -> list[VenueOrderReport]:
        above, below = (target, stop) if stop.side is OrderSide.SELL else (stop, target)
        now = self.clock.now_ms()
        try:
            order_list, orders, events = self.engine.place_oco(
                self.account, stop.symbol, stop.side.value, stop.quantity, self._request(above),
                self._request(below), now, list_client_id)
        except SimError as error:
            raise translate(error) from error
        self._list_ids[order_list.order_list_id] = list_client_id
        self._publish(events)
        return [report(o, (), now, list_client_id) for o in orders]

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrderReport:
        now = self.clock.now_ms()
        try:
            order = self.engine.find_order(self.account, self.market, symbol, client_id=client_order_id)
            if order is None and self.market is Market.USDM:
                algo = self.engine.find_algo(self.account, None, client_order_id)
                if algo is not None and algo.is_open:
                    canceled_algo, algo_events = self.engine.cancel_algo(self.account, now, algo.algo_id)
                    self._publish(algo_events)
                    return algo_report(canceled_algo)
            canceled, events = self.engine.cancel(self.account, self.market, symbol, now, client_id=client_order_id)
        except SimError as error:
            raise translate(error) from error
        self._publish(events)
        return report(canceled, (), now, self._list_ids.get(canceled.order_list_id, ""))

    async def query_order(self, symbol: str, client_order_id: str) -> VenueOrderReport | None:
        try:
            order = self.engine.find_order(self.account, self.market, symbol, client_id=client_order_id)
        except SimError as error:
            raise translate(error) from error
        if order is None:
            algo = self.engine.find_algo(self.account, None, client_order_id)
            return algo_report(algo) if algo is not None else None
        trades = [t for t in self.engine.account_trades(self.account, self.market, symbol)
                  if t.order_id == order.order_id]
        return report(order, trades, list_client_id=self._list_ids.get(order.order_list_id, ""))

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderReport]:
        orders = self.engine.open_orders(self.account, self.market, symbol)
        reports = [report(o, (), list_client_id=self._list_ids.get(o.order_list_id, "")) for o in orders]
        if self.market is Market.USDM:
            reports += [algo_report(a) for a in self.engine.open_algos(self.account, symbol)]
        return reports

    async def trades(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        return [_fill(t) for t in self.engine.account_trades(self.account, self.market, symbol)
                if since_ms is None or t.time >= since_ms]

    async def balances(self) -> dict[str, Balance]:
        if self.market is Market.USDM:
            wallet = self.engine.futures_account(self.account).wallet
            return {asset: Balance(asset, amount, Decimal(0)) for asset, amount in wallet.items()}
        return {b.asset: Balance(b.asset, b.free, b.locked) for b in self.engine.spot_account(self.account).view()}

    async def positions(self) -> list[VenuePosition]:
        if self.market is Market.SPOT:
            return []
        return [VenuePosition(p.symbol, p.position_amt, p.entry_price, p.unrealized_pnl, p.leverage)
                for p in self.engine.positions(self.account) if p.position_amt != 0]

    async def order_updates(self) -> AsyncIterator[VenueOrderReport]:
        while True:
            yield await self._updates.get()

    # ---- internals --------------------------------------------------------------------------------

    def _publish(self, events: list[EngineEvent]) -> list[VenueOrderReport]:
        reports: list[VenueOrderReport] = []
        for event in events:
            if isinstance(event, OrderEvent) and event.order.account == self.account:
                order = event.order
                list_id = self._list_ids.get(order.order_list_id, "")
                reports.append(report(order, (event.trade,) if event.trade else (), event.time, list_id))
            elif isinstance(event, AlgoEvent) and event.algo.account == self.account:
                reports.append(algo_report(event.algo))
        for item in reports:
            self._updates.put_nowait(item)
        return reports
