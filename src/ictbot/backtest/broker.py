"""The backtest's execution side: orders as domain ``Order`` state machines, fills applied to domain
``Position`` objects, cash in Decimal. One source of truth per fact, exactly as live:
an order changes only through ``Order.apply(event)``, a position only through ``Position.apply(fill)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import (
    Fill,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderLeg,
    OrderRejected,
    OrderSide,
    OrderType,
    client_order_id,
)
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction

from ictbot.backtest.fills import ExitKind, FillModel
from ictbot.backtest.results import Trade

_LEG_FOR_EXIT = {ExitKind.STOP: OrderLeg.STOP, ExitKind.TARGET: OrderLeg.TAKE_PROFIT}
_TYPE_FOR_EXIT = {ExitKind.STOP: OrderType.STOP_LOSS, ExitKind.TARGET: OrderType.TAKE_PROFIT}


@dataclass(slots=True)
class OpenTrade:
    intent: OrderIntent
    position: Position
    entry_index: int
    entry_time: int
    entry_price: Decimal
    stop: Decimal | None
    target: Decimal | None


@dataclass(slots=True)
class BookEntry:
    """Cash and position changes at a candle, for the vectorised equity curve."""

    index: int
    cash_delta: float
    qty_delta: float


@dataclass
class SimulatedBroker:
    instrument: Instrument
    fill_model: FillModel
    cash: Decimal
    market: Market = Market.SPOT
    orders: list[Order] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    book: list[BookEntry] = field(default_factory=list)
    _seq: int = 0

    def _fill(self, order: Order, price: Decimal, time: int) -> tuple[Order, Fill]:
        self._seq += 1
        fee = self.fill_model.fee(price, order.quantity)
        fill = Fill(
            trade_id=f"bt-{self._seq}", client_order_id=order.client_order_id, symbol=order.symbol,
            side=order.side, price=price, qty=order.quantity, fee=fee,
            fee_asset=self.instrument.quote_asset, time=time,
            is_maker=order.type in (OrderType.LIMIT, OrderType.TAKE_PROFIT),
        )
        order = order.apply(OrderAccepted(exchange_order_id=f"bt-o{self._seq}", time=time))
        order = order.apply(OrderFilled(fill))
        self.orders.append(order)
        return order, fill

    def _book(self, index: int, fill: Fill) -> None:
        sign = fill.side.sign
        self.cash -= fill.price * fill.qty * sign + fill.fee
        self.book.append(BookEntry(index, -float(fill.price * fill.qty * sign + fill.fee), float(fill.qty * sign)))

    def reject(self, intent: OrderIntent, reason: str, time: int) -> None:
        signal = intent.signal
        order = self._entry_order(intent, time).apply(OrderRejected(reason=reason, time=time))
        self.orders.append(order)
        del signal

    def _entry_order(self, intent: OrderIntent, time: int) -> Order:
        signal = intent.signal
        side = OrderSide.BUY if signal.direction is Direction.LONG else OrderSide.SELL
        return Order(
            client_order_id=client_order_id(signal.strategy_id, signal.id, OrderLeg.ENTRY),
            symbol=signal.symbol, side=side,
            type=OrderType.MARKET if intent.entry_price is None else OrderType.LIMIT,
            quantity=intent.quantity, created_at=time, price=intent.entry_price, market=self.market,
            strategy_id=signal.strategy_id, signal_id=signal.id, leg=OrderLeg.ENTRY, position_id=signal.id,
        )

    def open(self, intent: OrderIntent, index: int, time: int, price: Decimal) -> OpenTrade:
        """Fill the entry of ``intent`` at ``price`` (already slipped) inside candle ``index``."""
        order, fill = self._fill(self._entry_order(intent, time), price, time)
        signal = intent.signal
        position = Position(
            id=signal.id, symbol=signal.symbol, base_asset=self.instrument.base_asset,
            quote_asset=self.instrument.quote_asset, market=self.market, strategy_id=signal.strategy_id,
        ).apply(fill)
        stop = self.instrument.round_price(intent.stop_loss) if intent.stop_loss > 0 else None
        target = self.instrument.round_price(intent.take_profits[0]) if intent.take_profits else None
        position = position.with_protection(stop, () if target is None else (target,))
        self._book(index, fill)
        return OpenTrade(intent, position, index, time, price, stop, target)

    def close(self, trade: OpenTrade, index: int, time: int, price: Decimal, reason: ExitKind) -> Trade:
        position = trade.position
        side = OrderSide.SELL if position.qty > 0 else OrderSide.BUY
        signal = trade.intent.signal
        leg = _LEG_FOR_EXIT.get(reason, OrderLeg.EXIT)
        order = Order(
            client_order_id=client_order_id(signal.strategy_id, signal.id, leg), symbol=position.symbol,
            side=side, type=_TYPE_FOR_EXIT.get(reason, OrderType.MARKET), quantity=abs(position.qty),
            created_at=time, stop_price=trade.stop if reason is ExitKind.STOP else None,
            price=trade.target if reason is ExitKind.TARGET else None, market=self.market, reduce_only=True,
            strategy_id=signal.strategy_id, signal_id=signal.id, leg=leg, position_id=position.id,
        )
        order, fill = self._fill(order, price, time)
        position = position.apply(fill)
        self._book(index, fill)
        record = Trade(
            number=len(self.trades) + 1, symbol=position.symbol, strategy_id=signal.strategy_id,
            direction=signal.direction.value, entry_time=trade.entry_time, entry_price=trade.entry_price,
            exit_time=time, exit_price=price, qty=abs(trade.position.qty), fees=position.fees_quote,
            pnl=position.realized_pnl, exit_reason=reason.value, entry_reason=signal.reason,
            signal_id=signal.id, signal_time=signal.time, stop_loss=trade.stop, take_profit=trade.target,
            entry_index=trade.entry_index, exit_index=index,
        )
        self.trades.append(record)
        return record

    @property
    def realized(self) -> Decimal:
        return sum((t.pnl for t in self.trades), ZERO)
