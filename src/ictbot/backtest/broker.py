"""The backtest's execution side: orders as domain ``Order`` state machines, fills applied to domain
``Position`` objects, cash in Decimal. One source of truth per fact, exactly as live:
an order changes only through ``Order.apply(event)``, a position only through ``Position.apply(fill)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.backtest.fills import ExitKind, FillModel
from ictbot.backtest.results import Trade
from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import (
    Fill,
    Order,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderLeg,
    OrderRejected,
    OrderSide,
    OrderType,
)
from ictbot.domain.position import Position
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.ids import leg_client_id
from ictbot.execution.planning import entry_order, exit_order

_LEG_FOR_EXIT = {ExitKind.STOP: OrderLeg.STOP, ExitKind.TARGET: OrderLeg.TAKE_PROFIT}
_TYPE_FOR_EXIT = {
    Market.SPOT: {ExitKind.STOP: OrderType.STOP_LOSS_LIMIT, ExitKind.TARGET: OrderType.LIMIT_MAKER},
    Market.USDM: {ExitKind.STOP: OrderType.STOP_MARKET, ExitKind.TARGET: OrderType.TAKE_PROFIT_MARKET},
}


@dataclass(slots=True)
class OpenTrade:
    intent: OrderIntent
    signal_id: str
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
    execution: ExecutionConfig = field(default_factory=lambda: ExecutionConfig(background_tasks=False))
    trades: list[Trade] = field(default_factory=list)
    book: list[BookEntry] = field(default_factory=list)
    _journal: list[tuple[Order, tuple[OrderEvent, ...]]] = field(default_factory=list)
    _seq: int = 0

    @property
    def orders(self) -> list[Order]:
        """Every order in its final state, replayed through ``Order.apply`` from the journal.

        The events are journaled as they happen and the state machine is run on demand: the
        result is identical, and the hot loop does not pay for order objects nobody reads.
        """
        replayed = []
        for order, events in self._journal:
            for event in events:
                order = order.apply(event)
            replayed.append(order)
        return replayed

    def _fill(self, order: Order, price: Decimal, time: int) -> Fill:
        self._seq += 1
        fee = self.fill_model.fee(price, order.quantity)
        fill = Fill(
            trade_id=f"bt-{self._seq}", client_order_id=order.client_order_id, symbol=order.symbol,
            side=order.side, price=price, qty=order.quantity, fee=fee,
            fee_asset=self.instrument.quote_asset, time=time,
            is_maker=order.type in (OrderType.LIMIT, OrderType.LIMIT_MAKER),
        )
        self._journal.append((order, (OrderAccepted(exchange_order_id=f"bt-o{self._seq}", time=time),
                                      OrderFilled(fill))))
        return fill

    def _book(self, index: int, fill: Fill) -> None:
        sign = fill.side.sign
        self.cash -= fill.price * fill.qty * sign + fill.fee
        self.book.append(BookEntry(index, -float(fill.price * fill.qty * sign + fill.fee), float(fill.qty * sign)))

    def entry_order(self, intent: OrderIntent, time: int) -> Order:
        """The live execution stage's entry order (same client id, rounding and type)."""
        return entry_order(intent, self.instrument, self.execution, time)

    def reject(self, order: Order, reason: str, time: int) -> None:
        """Journal an entry the venue refused (filters), as the live venue's reply would."""
        self._journal.append((order, (OrderRejected(reason=reason, time=time),)))

    def open(self, order: Order, intent: OrderIntent, index: int, time: int, price: Decimal) -> OpenTrade:
        """Fill the entry ``order`` of ``intent`` at ``price`` (already slipped) inside candle ``index``."""
        signal = intent.signal
        signal_id = order.signal_id
        fill = self._fill(order, price, time)
        # The risk gate already put stop and targets on the tick grid (stops rounded away from entry).
        stop = intent.stop_loss if intent.stop_loss > 0 else None
        target = intent.take_profits[0] if intent.take_profits else None
        position = Position(
            id=order.position_id, symbol=signal.symbol, base_asset=self.instrument.base_asset,
            quote_asset=self.instrument.quote_asset, market=self.market, strategy_id=signal.strategy_id,
            stop_loss=stop, take_profits=() if target is None else (target,),
        ).apply(fill)
        self._book(index, fill)
        return OpenTrade(intent, signal_id, position, index, time, price, stop, target)

    def close(self, trade: OpenTrade, index: int, time: int, price: Decimal, reason: ExitKind) -> Trade:
        position = trade.position
        side = OrderSide.SELL if position.qty > 0 else OrderSide.BUY
        signal = trade.intent.signal
        signal_id = trade.signal_id
        qty = abs(position.qty)
        if reason in _LEG_FOR_EXIT:
            # The protective leg of the live plan (spot: OCO of stop + LIMIT_MAKER target; futures:
            # STOP_MARKET / TAKE_PROFIT_MARKET), identified by the live client id scheme.
            leg = _LEG_FOR_EXIT[reason]
            order = Order(
                client_order_id=leg_client_id(position.id, leg, 0), symbol=position.symbol, side=side,
                type=_TYPE_FOR_EXIT[self.market][reason], quantity=qty, created_at=time,
                stop_price=trade.stop if reason is ExitKind.STOP else None,
                price=trade.target if reason is ExitKind.TARGET else None, market=self.market,
                reduce_only=self.market is Market.USDM, strategy_id=signal.strategy_id, signal_id=signal_id,
                leg=leg, position_id=position.id,
            )
        else:
            order = exit_order(position_id=position.id, symbol=position.symbol, long=position.qty > 0, qty=qty,
                               instrument=self.instrument, attempt=0, now_ms=time,
                               strategy_id=signal.strategy_id, signal_id=signal_id)
        fill = self._fill(order, price, time)
        position = position.apply(fill)
        self._book(index, fill)
        record = Trade(
            number=len(self.trades) + 1, symbol=position.symbol, strategy_id=signal.strategy_id,
            direction=signal.direction.value, entry_time=trade.entry_time, entry_price=trade.entry_price,
            exit_time=time, exit_price=price, qty=abs(trade.position.qty), fees=position.fees_quote,
            pnl=position.realized_pnl, exit_reason=reason.value, entry_reason=signal.reason,
            signal_id=signal_id, signal_time=signal.time, stop_loss=trade.stop, take_profit=trade.target,
            entry_index=trade.entry_index, exit_index=index,
        )
        self.trades.append(record)
        return record

    @property
    def realized(self) -> Decimal:
        return sum((t.pnl for t in self.trades), ZERO)
