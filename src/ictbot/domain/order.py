"""Orders and their state machine.

An ``Order`` is immutable: ``order.apply(event)`` returns the next ``Order`` or raises
``IllegalTransitionError``. Only the transitions in ``_TRANSITIONS`` exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import TypeAlias

from ictbot.domain.errors import DuplicateFillError, IllegalTransitionError
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO

CLIENT_ID_PREFIX = "ict"


class OrderSide(str, Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY

    @property
    def sign(self) -> int:
        return 1 if self is OrderSide.BUY else -1


class OrderType(str, Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"


class TimeInForce(str, Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"


class OrderStatus(str, Enum):
    PENDING_SUBMIT = "PENDING_SUBMIT"  # journaled locally, request not yet answered
    SUBMITTED_UNKNOWN = "SUBMITTED_UNKNOWN"  # request sent, outcome unknown (timeout / 5xx)
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        return not self.is_terminal


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})


class OrderLeg(str, Enum):
    ENTRY = "E"
    STOP = "S"
    TAKE_PROFIT = "T"
    EXIT = "X"


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution (trade) against an order."""

    trade_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    time: int
    is_maker: bool = False

    @property
    def notional(self) -> Decimal:
        return self.price * self.qty


# ---- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    exchange_order_id: str
    time: int


@dataclass(frozen=True, slots=True)
class OrderSubmitUnknown:
    reason: str
    time: int


@dataclass(frozen=True, slots=True)
class OrderRejected:
    reason: str
    time: int
    code: int | None = None


@dataclass(frozen=True, slots=True)
class OrderFilled:
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    time: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderExpired:
    time: int
    reason: str = ""


OrderEvent: TypeAlias = (
    OrderAccepted | OrderSubmitUnknown | OrderRejected | OrderFilled | OrderCanceled | OrderExpired
)

_S = OrderStatus
_TRANSITIONS: dict[type, frozenset[OrderStatus]] = {
    OrderAccepted: frozenset({_S.PENDING_SUBMIT, _S.SUBMITTED_UNKNOWN}),
    OrderSubmitUnknown: frozenset({_S.PENDING_SUBMIT}),
    OrderRejected: frozenset({_S.PENDING_SUBMIT, _S.SUBMITTED_UNKNOWN}),
    OrderFilled: frozenset({_S.SUBMITTED_UNKNOWN, _S.NEW, _S.PARTIALLY_FILLED}),
    OrderCanceled: frozenset({_S.SUBMITTED_UNKNOWN, _S.NEW, _S.PARTIALLY_FILLED}),
    OrderExpired: frozenset({_S.SUBMITTED_UNKNOWN, _S.NEW, _S.PARTIALLY_FILLED}),
}


def legal_sources(event_type: type) -> frozenset[OrderStatus]:
    """States from which an event of ``event_type`` may be applied."""
    return _TRANSITIONS[event_type]


def client_order_id(strategy_id: str, signal_id: str, leg: OrderLeg, attempt: int = 0) -> str:
    """Deterministic Binance-valid client order id (≤ 36 chars of ``[A-Za-z0-9_-]``).

    The same (strategy, signal, leg, attempt) always yields the same id, so a retried request can
    never create a second order while the first is open, and a restarted process recognises its own.
    """
    digest = hashlib.sha256(f"{strategy_id}|{signal_id}".encode()).hexdigest()[:24]
    return f"{CLIENT_ID_PREFIX}-{digest}-{leg.value}{attempt}"


@dataclass(frozen=True, slots=True)
class Order:
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    quantity: Decimal
    created_at: int
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    market: Market = Market.SPOT
    reduce_only: bool = False
    strategy_id: str = ""
    signal_id: str = ""
    leg: OrderLeg = OrderLeg.ENTRY
    position_id: str = ""
    list_id: str = ""
    status: OrderStatus = OrderStatus.PENDING_SUBMIT
    exchange_order_id: str | None = None
    filled_qty: Decimal = ZERO
    filled_quote: Decimal = ZERO
    fees: tuple[tuple[str, Decimal], ...] = ()
    trade_ids: frozenset[str] = field(default_factory=frozenset)
    updated_at: int = 0
    reason: str = ""

    @property
    def remaining_qty(self) -> Decimal:
        return self.quantity - self.filled_qty

    @property
    def average_price(self) -> Decimal | None:
        return self.filled_quote / self.filled_qty if self.filled_qty > 0 else None

    def fee_in(self, asset: str) -> Decimal:
        return sum((amount for fee_asset, amount in self.fees if fee_asset == asset), ZERO)

    def apply(self, event: OrderEvent) -> Order:
        sources = _TRANSITIONS.get(type(event))
        if sources is None or self.status not in sources:
            raise IllegalTransitionError(
                f"order {self.client_order_id}: {type(event).__name__} not allowed in {self.status.value}"
            )
        match event:
            case OrderAccepted(exchange_order_id=exchange_id, time=time):
                return replace(self, status=_S.NEW, exchange_order_id=exchange_id, updated_at=time)
            case OrderSubmitUnknown(reason=reason, time=time):
                return replace(self, status=_S.SUBMITTED_UNKNOWN, reason=reason, updated_at=time)
            case OrderRejected(reason=reason, time=time):
                return replace(self, status=_S.REJECTED, reason=reason, updated_at=time)
            case OrderCanceled(time=time, reason=reason):
                return replace(self, status=_S.CANCELED, reason=reason or self.reason, updated_at=time)
            case OrderExpired(time=time, reason=reason):
                return replace(self, status=_S.EXPIRED, reason=reason or self.reason, updated_at=time)
            case OrderFilled(fill=fill):
                return self._apply_fill(fill)
        raise IllegalTransitionError(f"unknown order event {event!r}")  # pragma: no cover

    def _apply_fill(self, fill: Fill) -> Order:
        if fill.trade_id in self.trade_ids:
            raise DuplicateFillError(f"order {self.client_order_id}: trade {fill.trade_id} already applied")
        if fill.client_order_id != self.client_order_id:
            raise IllegalTransitionError(
                f"fill for {fill.client_order_id} applied to order {self.client_order_id}"
            )
        filled = self.filled_qty + fill.qty
        if filled > self.quantity:
            raise IllegalTransitionError(
                f"order {self.client_order_id}: fill of {fill.qty} overfills {self.quantity}"
            )
        fees = dict(self.fees)
        fees[fill.fee_asset] = fees.get(fill.fee_asset, ZERO) + fill.fee
        return replace(
            self,
            status=_S.FILLED if filled == self.quantity else _S.PARTIALLY_FILLED,
            filled_qty=filled,
            filled_quote=self.filled_quote + fill.notional,
            fees=tuple(sorted(fees.items())),
            trade_ids=self.trade_ids | {fill.trade_id},
            updated_at=fill.time,
        )
