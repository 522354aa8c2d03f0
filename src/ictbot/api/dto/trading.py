"""The API's positions, orders, trades, strategies and signals, and the queries and requests on them."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from ictbot.api.dto.fields import (
    DTO_CONFIG,
    INPUT_CONFIG,
    Identifier,
    PositiveAmount,
    Reason,
    SymbolName,
    TimestampMs,
)
from ictbot.domain.order import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from ictbot.domain.position import Position, PositionSide


class PositionView(BaseModel):
    model_config = DTO_CONFIG
    id: str
    symbol: str
    market: str
    strategy_id: str
    side: PositionSide
    qty: Decimal
    avg_entry: Decimal
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    realized_pnl: Decimal
    fees_quote: Decimal
    stop_loss: Decimal | None = None
    take_profits: list[Decimal] = Field(default_factory=list)
    opened_at_ms: int | None = None
    closed_at_ms: int | None = None
    is_open: bool

    @classmethod
    def from_domain(cls, position: Position, mark_price: Decimal | None = None) -> PositionView:
        return cls(
            id=position.id,
            symbol=position.symbol,
            market=position.market.value,
            strategy_id=position.strategy_id,
            side=position.side,
            qty=position.qty,
            avg_entry=position.avg_entry,
            mark_price=mark_price,
            unrealized_pnl=position.unrealized_pnl(mark_price) if mark_price is not None else None,
            realized_pnl=position.realized_pnl,
            fees_quote=position.fees_quote,
            stop_loss=position.stop_loss,
            take_profits=list(position.take_profits),
            opened_at_ms=position.opened_at,
            closed_at_ms=position.closed_at,
            is_open=position.is_open,
        )


class OrderView(BaseModel):
    model_config = DTO_CONFIG
    client_order_id: str
    exchange_order_id: str | None = None
    symbol: str
    market: str
    side: OrderSide
    type: OrderType
    status: OrderStatus
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    reduce_only: bool = False
    filled_qty: Decimal
    average_price: Decimal | None = None
    strategy_id: str = ""
    signal_id: str = ""
    leg: str = ""
    position_id: str = ""
    created_at_ms: int
    updated_at_ms: int
    reason: str = ""

    @classmethod
    def from_domain(cls, order: Order) -> OrderView:
        return cls(
            client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id,
            symbol=order.symbol,
            market=order.market.value,
            side=order.side,
            type=order.type,
            status=order.status,
            quantity=order.quantity,
            price=order.price,
            stop_price=order.stop_price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            filled_qty=order.filled_qty,
            average_price=order.average_price,
            strategy_id=order.strategy_id,
            signal_id=order.signal_id,
            leg=order.leg.name,
            position_id=order.position_id,
            created_at_ms=order.created_at,
            updated_at_ms=order.updated_at or order.created_at,
            reason=order.reason,
        )


class OrderPage(BaseModel):
    model_config = DTO_CONFIG
    items: list[OrderView]
    total: int
    limit: int
    offset: int


class StrategyView(BaseModel):
    model_config = DTO_CONFIG
    id: str
    enabled: bool
    kind: str = ""
    symbols: list[str] = Field(default_factory=list)
    timeframe: str = ""
    risk_per_trade_pct: Decimal | None = None
    max_positions: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    signals: int = 0
    open_positions: int = 0


class TradeView(BaseModel):
    model_config = DTO_CONFIG
    id: str
    symbol: str
    strategy_id: str
    side: PositionSide
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal | None = None
    pnl: Decimal
    fees: Decimal = Decimal(0)
    r_multiple: float | None = None
    opened_at_ms: int
    closed_at_ms: int | None = None


class TradePage(BaseModel):
    model_config = DTO_CONFIG
    items: list[TradeView]
    total: int
    limit: int
    offset: int


class SignalView(BaseModel):
    """A recent signal: accepted by risk, or rejected with its reasons."""

    model_config = DTO_CONFIG
    signal_id: str
    time_ms: int
    strategy_id: str
    symbol: str
    direction: str
    accepted: bool
    reasons: list[str]
    entry_price: Decimal | None = None
    stop_loss: Decimal | None = None


class ManualOrderRequest(BaseModel):
    """A manual entry order; it goes through the risk engine like any signal."""

    model_config = INPUT_CONFIG
    symbol: SymbolName
    side: Literal["BUY", "SELL"]
    type: Literal["MARKET", "LIMIT"] = "MARKET"
    quantity: PositiveAmount | None = None
    price: PositiveAmount | None = None
    stop_loss: PositiveAmount
    take_profits: Annotated[list[PositiveAmount], Field(min_length=1, max_length=5)]
    strategy_id: Identifier = "manual"
    note: Reason = ""

    @model_validator(mode="after")
    def _coherent(self) -> ManualOrderRequest:
        if self.type == "LIMIT" and self.price is None:
            raise ValueError("a LIMIT order needs price")
        if self.type == "MARKET" and self.price is not None:
            raise ValueError("a MARKET order takes no price")
        if self.price is not None:
            long = self.side == "BUY"
            if (self.stop_loss >= self.price) if long else (self.stop_loss <= self.price):
                raise ValueError("stop_loss must be on the losing side of price")
            if any((tp <= self.price) if long else (tp >= self.price) for tp in self.take_profits):
                raise ValueError("take_profits must be on the winning side of price")
        return self


class OrderQuery(BaseModel):
    model_config = INPUT_CONFIG
    status: OrderStatus | None = None
    open_only: bool = False
    symbol: SymbolName | None = None
    strategy_id: Identifier | None = None
    side: OrderSide | None = None
    since_ms: TimestampMs | None = None
    until_ms: TimestampMs | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class TradeQuery(BaseModel):
    model_config = INPUT_CONFIG
    symbol: SymbolName | None = None
    strategy_id: Identifier | None = None
    since_ms: TimestampMs | None = None
    until_ms: TimestampMs | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class SignalQuery(BaseModel):
    model_config = INPUT_CONFIG
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    rejected_only: bool = False
