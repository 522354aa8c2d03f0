"""A small scriptable ExecutionVenue double for execution/position tests.

It keeps orders by client id like Binance (an id is unique only among open orders), fills market
orders at the last price, triggers stop/target orders when ``set_price`` crosses them, links OCO
legs, pushes every change to ``order_updates()``, and injects faults:

* ``reject_next``: FinalError instances raised by the next creates;
* ``timeout_after_place``: the next N creates are executed, then NetworkError is raised;
* ``timeout_before_place``: the next N creates raise NetworkError and place nothing;
* ``stream_broken``: ``order_updates()`` raises ConnectionError;
* ``triggers_enabled``: False makes triggered stops never fill (emergency-close tests).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ictbot.domain.errors import DuplicateOrderError, FinalError, NetworkError, OrderNotFoundError
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill, Order, OrderSide, OrderStatus, OrderType
from ictbot.ports.repositories import OrderJournal
from ictbot.ports.venue import Balance, VenueOrderReport, VenuePosition

D = Decimal


def spot_btc() -> Instrument:
    return Instrument(
        symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", market=Market.SPOT, tick_size=D("0.01"),
        step_size=D("0.00001"), min_qty=D("0.00001"), min_notional=D("5"), order_types=(),
    )


def futures_btc() -> Instrument:
    return Instrument(
        symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", market=Market.USDM, tick_size=D("0.1"),
        step_size=D("0.001"), min_qty=D("0.001"), min_notional=D("5"),
    )


@dataclass
class VenueOrder:
    order: Order
    exchange_id: str
    status: OrderStatus = OrderStatus.NEW
    executed: Decimal = ZERO
    quote: Decimal = ZERO
    fills: list[Fill] = field(default_factory=list)
    time: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.order.quantity - self.executed


class FakeVenue:
    def __init__(
        self,
        instruments: list[Instrument] | None = None,
        *,
        price: Decimal = D("50000"),
        fee_rate: Decimal = D("0.001"),
        fee_in_base: bool = False,
        balances: dict[str, Decimal] | None = None,
    ) -> None:
        self.instruments_ = {i.symbol: i for i in (instruments or [spot_btc()])}
        self.prices: dict[str, Decimal] = dict.fromkeys(self.instruments_, price)
        self.fee_rate = fee_rate
        self.fee_in_base = fee_in_base
        self.orders: dict[str, VenueOrder] = {}
        self.all_orders: list[VenueOrder] = []
        self.place_calls: list[Order] = []
        self.cancel_calls: list[str] = []
        self.calls: list[tuple[str, str]] = []  # ("place" | "cancel", client id) in call order
        self.journal: OrderJournal | None = None
        self.journaled_before_send: list[bool] = []
        self.trades_: list[Fill] = []
        self.balances_: dict[str, Decimal] = dict(balances or {"USDT": D("100000")})
        self.positions_: dict[str, Decimal] = {}
        self.reject_next: list[FinalError] = []
        self.timeout_after_place = 0
        self.timeout_before_place = 0
        self.stream_broken = False
        self.mute_stream = False  # events are lost (not delivered), the stream itself stays open
        self.triggers_enabled = True
        self.market_fill_parts = 1
        self.report_terms = True  # False: reports lack side/type/quantity (as some adapters send)
        self.leverage: dict[str, int] = {}
        self._queue: asyncio.Queue[VenueOrderReport | None] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self.now = 1_700_000_000_000

    @property
    def market(self) -> Market:
        return next(iter(self.instruments_.values())).market

    # ---- ExecutionVenue ---------------------------------------------------------------------
    async def instruments(self) -> dict[str, Instrument]:
        return dict(self.instruments_)

    async def place_order(self, order: Order) -> VenueOrderReport:
        await self._before_create(order)
        venue_order = self._create(order)
        if order.type is OrderType.MARKET:
            self._fill_market(venue_order)
        return self._after_create(venue_order)

    async def place_oco(self, stop: Order, target: Order, list_client_id: str) -> list[VenueOrderReport]:
        await self._before_create(stop)
        self.journaled_before_send.append(await self._journaled(target))
        legs = [self._create(stop), self._create(target)]
        if self.timeout_after_place > 0:
            self.timeout_after_place -= 1
            raise NetworkError("timeout after the list was placed")
        return [self.report(leg) for leg in legs]

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrderReport:
        self.cancel_calls.append(client_order_id)
        self.calls.append(("cancel", client_order_id))
        found = self.orders.get(client_order_id)
        if found is None or found.status.is_terminal:
            raise OrderNotFoundError("Unknown order sent.", code=-2011)
        self._finish(found, OrderStatus.CANCELED)
        for sibling in self._siblings(found):
            self._finish(sibling, OrderStatus.CANCELED)
        return self.report(found)

    async def query_order(self, symbol: str, client_order_id: str) -> VenueOrderReport | None:
        found = self.orders.get(client_order_id)
        return None if found is None else self.report(found, with_fills=False)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderReport]:
        return [self.report(o, with_fills=False) for o in self.orders.values()
                if o.status.is_open and (symbol is None or o.order.symbol == symbol)]

    async def trades(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        return [t for t in self.trades_ if t.symbol == symbol and (since_ms is None or t.time >= since_ms)]

    async def balances(self) -> dict[str, Balance]:
        return {asset: Balance(asset, qty, ZERO) for asset, qty in self.balances_.items()}

    async def positions(self) -> list[VenuePosition]:
        return [VenuePosition(symbol, qty, self.prices[symbol]) for symbol, qty in self.positions_.items() if qty]

    async def order_updates(self) -> AsyncIterator[VenueOrderReport]:
        if self.stream_broken:
            raise ConnectionError("user stream down")
        while True:
            item = await self._queue.get()
            if item is None or self.stream_broken:
                raise ConnectionError("user stream dropped")
            yield item

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        self.leverage[symbol] = leverage

    async def set_margin_type(self, symbol: str, margin_type: str) -> None:
        self.leverage.setdefault(f"{symbol}:margin:{margin_type}", 1)

    # ---- scripting --------------------------------------------------------------------------
    def drop_stream(self) -> None:
        self.stream_broken = True
        self._queue.put_nowait(None)

    def open_venue_orders(self) -> list[VenueOrder]:
        return [o for o in self.orders.values() if o.status.is_open]

    def fill(self, client_order_id: str, qty: Decimal | None = None, price: Decimal | None = None) -> Fill:
        venue_order = self.orders[client_order_id]
        default_price = venue_order.order.price or self.prices[venue_order.order.symbol]
        return self._fill(venue_order, qty if qty is not None else venue_order.remaining,
                          price if price is not None else default_price)

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the last price; trigger stops/targets it crosses (at their own price)."""
        self.prices[symbol] = price
        self.now += 1000
        for venue_order in list(self.orders.values()):
            order = venue_order.order
            if venue_order.status.is_terminal or order.symbol != symbol:
                continue
            sell = order.side is OrderSide.SELL
            if order.type in (OrderType.STOP_LOSS_LIMIT, OrderType.STOP_MARKET) and order.stop_price is not None:
                hit = price <= order.stop_price if sell else price >= order.stop_price
                if hit and self.triggers_enabled:
                    self._fill(venue_order, venue_order.remaining, order.stop_price)
            elif order.type in (OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT_MARKET, OrderType.LIMIT):
                level = order.price if order.price is not None else order.stop_price
                assert level is not None
                if order.type is OrderType.LIMIT:
                    hit = price <= level if order.side is OrderSide.BUY else price >= level
                else:
                    hit = price >= level if sell else price <= level
                if hit:
                    self._fill(venue_order, venue_order.remaining, level)

    def report(self, venue_order: VenueOrder, *, with_fills: bool = True) -> VenueOrderReport:
        order = venue_order.order
        if not self.report_terms:
            return VenueOrderReport(
                client_order_id=order.client_order_id, symbol=order.symbol, status=venue_order.status,
                exchange_order_id=venue_order.exchange_id, executed_qty=venue_order.executed,
                cumulative_quote=venue_order.quote, fills=tuple(venue_order.fills) if with_fills else (),
                time=venue_order.time, list_client_id=order.list_id,
            )
        return VenueOrderReport(
            client_order_id=order.client_order_id, symbol=order.symbol, status=venue_order.status,
            exchange_order_id=venue_order.exchange_id, executed_qty=venue_order.executed,
            cumulative_quote=venue_order.quote, fills=tuple(venue_order.fills) if with_fills else (),
            time=venue_order.time, list_client_id=order.list_id, side=order.side, type=order.type,
            quantity=order.quantity, price=order.price, stop_price=order.stop_price, reduce_only=order.reduce_only,
        )

    # ---- internals ----------------------------------------------------------------------------
    async def _journaled(self, order: Order) -> bool:
        return self.journal is not None and await self.journal.get(order.client_order_id) is not None

    async def _before_create(self, order: Order) -> None:
        self.place_calls.append(order)
        self.calls.append(("place", order.client_order_id))
        self.journaled_before_send.append(await self._journaled(order))
        if self.timeout_before_place > 0:
            self.timeout_before_place -= 1
            raise NetworkError("connect timeout (nothing placed)")
        if self.reject_next:
            raise self.reject_next.pop(0)
        existing = self.orders.get(order.client_order_id)
        if existing is not None and existing.status.is_open:
            raise DuplicateOrderError("Duplicate order sent.", code=-2010)

    def _create(self, order: Order) -> VenueOrder:
        self.now += 1
        venue_order = VenueOrder(order=replace(order), exchange_id=str(next(self._ids)), time=self.now)
        self.orders[order.client_order_id] = venue_order
        self.all_orders.append(venue_order)
        self._push(venue_order, with_fills=False)
        return venue_order

    def _after_create(self, venue_order: VenueOrder) -> VenueOrderReport:
        if self.timeout_after_place > 0:
            self.timeout_after_place -= 1
            raise NetworkError("read timeout (order was placed)")
        return self.report(venue_order)

    def _fill_market(self, venue_order: VenueOrder) -> None:
        price = self.prices[venue_order.order.symbol]
        parts = self.market_fill_parts
        step = self.instruments_[venue_order.order.symbol].step_size
        for index in range(parts):
            qty = venue_order.remaining if index == parts - 1 else (venue_order.order.quantity / parts).quantize(step)
            if qty > 0:
                self._fill(venue_order, qty, price)

    def _fill(self, venue_order: VenueOrder, qty: Decimal, price: Decimal) -> Fill:
        order = venue_order.order
        instrument = self.instruments_[order.symbol]
        self.now += 1
        if self.fee_in_base and order.side is OrderSide.BUY and instrument.market is Market.SPOT:
            fee, fee_asset = qty * self.fee_rate, instrument.base_asset
        else:
            fee, fee_asset = qty * price * self.fee_rate, instrument.quote_asset
        fill = Fill(
            trade_id=str(next(self._trade_ids)), client_order_id=order.client_order_id, symbol=order.symbol,
            side=order.side, price=price, qty=qty, fee=fee, fee_asset=fee_asset, time=self.now,
        )
        venue_order.executed += qty
        venue_order.quote += qty * price
        venue_order.fills.append(fill)
        venue_order.status = OrderStatus.FILLED if venue_order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        venue_order.time = self.now
        self.trades_.append(fill)
        self._book_holdings(instrument, fill)
        self._push(venue_order, fills=(fill,))
        if venue_order.status is OrderStatus.FILLED:
            for sibling in self._siblings(venue_order):
                self._finish(sibling, OrderStatus.EXPIRED)
        return fill

    def _book_holdings(self, instrument: Instrument, fill: Fill) -> None:
        sign = fill.side.sign
        if instrument.market is Market.USDM:
            self.positions_[fill.symbol] = self.positions_.get(fill.symbol, ZERO) + sign * fill.qty
            return
        base, quote = instrument.base_asset, instrument.quote_asset
        base_delta = sign * fill.qty - (fill.fee if fill.fee_asset == base else ZERO)
        quote_delta = -sign * fill.qty * fill.price - (fill.fee if fill.fee_asset == quote else ZERO)
        self.balances_[base] = self.balances_.get(base, ZERO) + base_delta
        self.balances_[quote] = self.balances_.get(quote, ZERO) + quote_delta

    def _siblings(self, venue_order: VenueOrder) -> list[VenueOrder]:
        list_id = venue_order.order.list_id
        if not list_id:
            return []
        return [o for o in self.orders.values()
                if o is not venue_order and o.order.list_id == list_id and o.status.is_open]

    def _finish(self, venue_order: VenueOrder, status: OrderStatus) -> None:
        self.now += 1
        venue_order.status = status
        venue_order.time = self.now
        self._push(venue_order, with_fills=False)

    def _push(self, venue_order: VenueOrder, *, with_fills: bool = True, fills: tuple[Fill, ...] = ()) -> None:
        if self.mute_stream:
            return
        report = self.report(venue_order, with_fills=False)
        if fills or with_fills:
            report = replace(report, fills=fills or tuple(venue_order.fills))
        self._queue.put_nowait(report)


def drain_stream(venue: FakeVenue) -> list[VenueOrderReport]:
    """Everything the user stream would have delivered so far (tests without the consumer task)."""
    found: list[VenueOrderReport] = []
    while not venue._queue.empty():
        item = venue._queue.get_nowait()
        if item is not None:
            found.append(item)
    return found
