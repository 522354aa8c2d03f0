"""The backtest's execution side: orders as domain ``Order`` state machines, fills applied to domain
``Position`` objects, cash in Decimal. One source of truth per fact, exactly as live:
an order changes only through ``Order.apply(event)``, a position only through ``Position.apply(fill)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

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
from ictbot.execution.planning import entry_order, exit_order, split_tranches

_LEG_FOR_EXIT = {ExitKind.STOP: OrderLeg.STOP, ExitKind.TARGET: OrderLeg.TAKE_PROFIT}
_TYPE_FOR_EXIT = {
    Market.SPOT: {ExitKind.STOP: OrderType.STOP_LOSS_LIMIT, ExitKind.TARGET: OrderType.LIMIT_MAKER},
    Market.USDM: {ExitKind.STOP: OrderType.STOP_MARKET, ExitKind.TARGET: OrderType.TAKE_PROFIT_MARKET},
}


@dataclass(slots=True)
class OpenTrade:
    """A position and its protective plan: one (quantity, target) tranche per take-profit, as the
    live executor splits it (``execution.planning.split_tranches``), all sharing the stop."""

    intent: OrderIntent
    signal_id: str
    position: Position
    entry_index: int
    entry_time: int
    entry_price: Decimal
    stop: Decimal | None
    tranches: list[tuple[Decimal, Decimal | None]]  # (qty, target) still open
    entry_qty: Decimal = ZERO
    exits: list[tuple[Decimal, Decimal, ExitKind]] = field(default_factory=list)  # (price, qty, why)
    attempts: list[int] = field(default_factory=list)  # client-id attempt of each open tranche's legs
    last_attempt: int = -1
    levels: tuple[float, float] | None = None  # (stop, active target) as floats; nan = none

    def float_levels(self) -> tuple[float, float]:
        """Stop and the nearest open target as floats for the candle comparisons (cached)."""
        if self.levels is None:
            target = self.target
            self.levels = (float(self.stop) if self.stop is not None else float("nan"),
                           float(target) if target is not None else float("nan"))
        return self.levels

    def next_tranche(self) -> int:
        """Index of the open tranche whose target the price reaches first (the nearest one)."""
        long = self.position.qty > 0
        best = -1
        for k, (_, target) in enumerate(self.tranches):
            if target is None:
                continue
            if best < 0 or (target < self.tranches[best][1] if long else target > self.tranches[best][1]):  # type: ignore[operator]
                best = k
        return best

    @property
    def target(self) -> Decimal | None:
        k = self.next_tranche()
        return None if k < 0 else self.tranches[k][1]


def live_attempt(time_ms: int) -> int:
    """The attempt number the live executor derives from its clock (``OrderExecutor._next_attempt``)."""
    return (time_ms // 1000) % 900_000


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
    _journal: list[tuple[Order | Callable[[], Order], tuple[OrderEvent, ...]]] = field(default_factory=list)
    _seq: int = 0

    @property
    def orders(self) -> list[Order]:
        return self.replay_orders()

    def replay_orders(self) -> list[Order]:
        """Every order in its final state, replayed through ``Order.apply`` from the journal.

        The events are journaled as they happen and the state machine is run on demand: the
        result is identical, and the hot loop does not pay for order objects nobody reads.
        """
        replayed = []
        for entry, events in self._journal:
            order = entry if isinstance(entry, Order) else entry()
            for event in events:
                order = order.apply(event)
            replayed.append(order)
        return replayed

    def _fill(self, order: Order, price: Decimal, time: int) -> Fill:
        return self._fill_leg(order.client_order_id, order.symbol, order.side, order.type, order.quantity, price,
                              time, order)

    def _fill_leg(self, client_id: str, symbol: str, side: OrderSide, order_type: OrderType, qty: Decimal,
                  price: Decimal, time: int, order: Order | Callable[[], Order]) -> Fill:
        self._seq += 1
        fill = Fill(
            trade_id=f"bt-{self._seq}", client_order_id=client_id, symbol=symbol, side=side, price=price, qty=qty,
            fee=self.fill_model.fee(price, qty), fee_asset=self.instrument.quote_asset, time=time,
            is_maker=order_type in (OrderType.LIMIT, OrderType.LIMIT_MAKER),
        )
        self._journal.append((order, (OrderAccepted(exchange_order_id=f"bt-o{self._seq}", time=time),
                                      OrderFilled(fill))))
        return fill

    def _book(self, index: int, fill: Fill) -> None:
        signed_qty = fill.qty if fill.side is OrderSide.BUY else -fill.qty
        outflow = fill.price * signed_qty + fill.fee
        self.cash -= outflow
        self.book.append(BookEntry(index, -float(outflow), float(signed_qty)))

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
        targets = list(intent.take_profits)
        qty = fill.qty
        # Tranche k rides target k, exactly as the live spot plan pairs them; a position too small
        # to split rides the first target whole.
        sizes = split_tranches(qty, len(targets), self.instrument, stop) if stop is not None else [qty]
        tranches: list[tuple[Decimal, Decimal | None]] = [
            (size, targets[k] if k < len(targets) else None) for k, size in enumerate(sizes)
        ]
        position = Position(
            id=order.position_id, symbol=signal.symbol, base_asset=self.instrument.base_asset,
            quote_asset=self.instrument.quote_asset, market=self.market, strategy_id=signal.strategy_id,
            stop_loss=stop, take_profits=tuple(t for _, t in tranches if t is not None),
        ).apply(fill)
        self._book(index, fill)
        # The live executor numbers the protective legs from the clock when it places them, right
        # after the entry fill: tranche k's stop and target share attempt base + k.
        base = live_attempt(time)
        attempts = list(range(base, base + len(tranches)))
        return OpenTrade(intent, signal_id, position, index, time, price, stop, tranches, qty,
                         attempts=attempts, last_attempt=attempts[-1])

    def _exit_fill(self, trade: OpenTrade, qty: Decimal, target: Decimal | None, attempt: int, index: int,
                   time: int, price: Decimal, reason: ExitKind) -> None:
        position = trade.position
        side = OrderSide.SELL if position.qty > 0 else OrderSide.BUY
        signal = trade.intent.signal
        if reason in _LEG_FOR_EXIT:
            # The protective leg of the live plan (spot: OCO of stop + LIMIT_MAKER target per tranche;
            # futures: STOP_MARKET / TAKE_PROFIT_MARKET), identified by the live client id scheme. Only
            # its id, side, type and quantity matter to the fill; the Order itself is built when the
            # journal is read (``replay_orders``), so the loop does not pay for it.
            leg = _LEG_FOR_EXIT[reason]
            order_type = _TYPE_FOR_EXIT[self.market][reason]
            client_id = leg_client_id(position.id, leg, attempt)
            stop = trade.stop if reason is ExitKind.STOP else None
            build = partial(self._protective_order, client_id, position.symbol, side, order_type, qty, time,
                            stop, target if reason is ExitKind.TARGET else None, leg, position.id,
                            signal.strategy_id, trade.signal_id)
            trade.last_attempt = max(trade.last_attempt, attempt)
            fill = self._fill_leg(client_id, position.symbol, side, order_type, qty, price, time, build)
            trade.position = position.apply(fill)
            trade.exits.append((price, qty, reason))
            self._book(index, fill)
            return
        order = exit_order(position_id=position.id, symbol=position.symbol, long=position.qty > 0, qty=qty,
                           instrument=self.instrument, attempt=attempt, now_ms=time,
                           strategy_id=signal.strategy_id, signal_id=trade.signal_id)
        trade.last_attempt = max(trade.last_attempt, attempt)
        fill = self._fill(order, price, time)
        trade.position = position.apply(fill)
        trade.exits.append((price, qty, reason))
        self._book(index, fill)

    def _protective_order(self, client_id: str, symbol: str, side: OrderSide, order_type: OrderType, qty: Decimal,
                          time: int, stop: Decimal | None, target: Decimal | None, leg: OrderLeg, position_id: str,
                          strategy_id: str, signal_id: str) -> Order:
        """The leg as the live plan places it; a spot stop is STOP_LOSS_LIMIT with its limit beyond the
        stop by ``stop_limit_slippage`` (``execution.planning.spot_protection``)."""
        price = target
        if stop is not None and order_type is OrderType.STOP_LOSS_LIMIT:
            slip = self.execution.stop_limit_slippage
            price = (self.instrument.floor_price(stop * (1 - slip)) if side is OrderSide.SELL
                     else self.instrument.ceil_price(stop * (1 + slip)))
        return Order(
            client_order_id=client_id, symbol=symbol, side=side, type=order_type, quantity=qty, created_at=time,
            stop_price=stop, price=price, market=self.market, reduce_only=self.market is Market.USDM,
            strategy_id=strategy_id, signal_id=signal_id, leg=leg, position_id=position_id,
        )

    def take_profit(self, trade: OpenTrade, index: int, time: int, price: Decimal) -> Trade | None:
        """The nearest tranche's target filled; returns the finished trade when it was the last one."""
        k = trade.next_tranche()
        qty, target = trade.tranches.pop(k)
        trade.levels = None
        self._exit_fill(trade, qty, target, trade.attempts.pop(k), index, time, price, ExitKind.TARGET)
        return None if trade.tranches else self._record(trade, index, time)

    def close(self, trade: OpenTrade, index: int, time: int, price: Decimal, reason: ExitKind) -> Trade:
        """Everything still open exits at ``price``: each tranche's stop leg, or one market order."""
        if reason is ExitKind.STOP:
            for (qty, target), attempt in zip(trade.tranches, trade.attempts, strict=True):
                self._exit_fill(trade, qty, target, attempt, index, time, price, reason)
        else:
            # The live executor's next attempt for a fresh exit order (seconds-based, after the legs').
            attempt = max(live_attempt(time), trade.last_attempt + 1)
            self._exit_fill(trade, abs(trade.position.qty), None, attempt, index, time, price, reason)
        trade.tranches = []
        trade.attempts = []
        return self._record(trade, index, time)

    def _record(self, trade: OpenTrade, index: int, time: int) -> Trade:
        position, signal = trade.position, trade.intent.signal
        exited = sum((qty for _, qty, _ in trade.exits), ZERO)
        # the volume-weighted exit of several tranches, shown on the tick grid like every other price
        average = self.instrument.round_price(sum((price * qty for price, qty, _ in trade.exits), ZERO) / exited)
        reasons: list[str] = []
        for _, _, why in trade.exits:
            if why.value not in reasons:
                reasons.append(why.value)
        targets = position.take_profits
        record = Trade(
            number=len(self.trades) + 1, symbol=position.symbol, strategy_id=signal.strategy_id,
            direction=signal.direction.value, entry_time=trade.entry_time, entry_price=trade.entry_price,
            exit_time=time, exit_price=average if len(trade.exits) > 1 else trade.exits[0][0],
            qty=trade.entry_qty, fees=position.fees_quote, pnl=position.realized_pnl,
            exit_reason="+".join(reasons), entry_reason=signal.reason, signal_id=trade.signal_id,
            signal_time=signal.time, stop_loss=_initial_stop(trade), take_profit=targets[0] if targets else None,
            entry_index=trade.entry_index, exit_index=index,
        )
        self.trades.append(record)
        return record

    @property
    def realized(self) -> Decimal:
        return sum((t.pnl for t in self.trades), ZERO)


def _initial_stop(trade: OpenTrade) -> Decimal | None:
    """The planned stop (a breakeven or trailing rule may have moved ``trade.stop`` since)."""
    return trade.intent.stop_loss if trade.intent.stop_loss > 0 else None
