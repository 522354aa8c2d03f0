"""The application facade: every operation the API (and CLI) may perform on the running system.

The API calls only this Protocol. The real implementation lives in ``ictbot.app.facade`` and talks
to the running services; tests use an in-memory fake. Everything crossing this boundary is a plain
pydantic DTO defined here (Decimal for money, ms-since-epoch UTC for times), and every expected
failure is one of three typed errors that the API maps to HTTP statuses:

* ``NotFound``          -> 404 (unknown position / order / strategy / config version / symbol)
* ``Conflict``          -> 409 (the request is valid but the current state forbids it:
                           closing a closed position, cancelling a filled order, risk denied,
                           trading halted)
* ``ValidationFailed``  -> 422 (semantic validation beyond field types, with field-level reasons)

DTOs never carry secrets (API keys, tokens, passwords); ``ConfigView`` is built from a redacted
configuration (see ``redact``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ictbot.domain.candle import Candle
from ictbot.domain.order import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from ictbot.domain.position import Position, PositionSide
from ictbot.domain.timeframe import Timeframe

# ---- errors --------------------------------------------------------------------------------------


class FacadeError(Exception):
    """Base of the expected failures of a facade operation."""


class NotFound(FacadeError):
    def __init__(self, kind: str, key: str | int) -> None:
        self.kind = kind
        self.key = str(key)
        super().__init__(f"{kind} {self.key!r} not found")


class Conflict(FacadeError):
    """The request cannot be carried out in the current state; ``reasons`` say why."""

    def __init__(self, message: str, reasons: Sequence[str] = ()) -> None:
        self.message = message
        self.reasons = tuple(reasons)
        super().__init__(message)


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    reason: str


class ValidationFailed(FacadeError):
    def __init__(self, errors: Sequence[FieldError] | Sequence[tuple[str, str]]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(
            e if isinstance(e, FieldError) else FieldError(field=e[0], reason=e[1]) for e in errors
        )
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in self.errors))


# ---- secret redaction ------------------------------------------------------------------------------

_SECRET_KEY = re.compile(r"(secret|token|password|passwd|passphrase|api[_-]?key|private[_-]?key|dsn)", re.I)
REDACTED = "***"


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact(value: Any) -> Any:
    """A copy of ``value`` with every mapping entry whose key looks secret replaced by ``***``."""
    if isinstance(value, Mapping):
        return {str(k): (REDACTED if is_secret_key(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


# ---- shared field types -----------------------------------------------------------------------------

_DTO = ConfigDict(frozen=True)
_INPUT = ConfigDict(extra="forbid", frozen=True)

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
SymbolName = Annotated[str, Field(min_length=2, max_length=20, pattern=r"^[A-Z0-9]+$")]
PositiveAmount = Annotated[Decimal, Field(gt=0, max_digits=30, decimal_places=12, allow_inf_nan=False)]
Fraction = Annotated[Decimal, Field(gt=0, le=1, max_digits=12, decimal_places=8, allow_inf_nan=False)]
# Risk per trade, in percent of equity (0.5 = 0.5 %): the one name and unit of config, CLI and API.
RiskPercent = Annotated[Decimal, Field(gt=0, le=10, max_digits=12, decimal_places=8, allow_inf_nan=False)]
_LEGACY_RISK = Field(default=None, json_schema_extra={"deprecated": True},
                     description="deprecated: the same as a fraction (0.005 = 0.5 %); use risk_per_trade_pct")
Reason = Annotated[str, Field(max_length=200)]
TimestampMs = Annotated[int, Field(ge=0, le=10**14)]
ScalarParam = bool | int | float | str | None

WS_TYPES = ("signal", "order", "position", "metric", "alert", "config", "candle", "indicator")


class TradingState(str, Enum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class HealthState(str, Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # trading goes on, with a problem worth attention
    DOWN = "down"  # trading cannot proceed; /health answers 503
    UNHEALTHY = "down"  # the former name of DOWN


# ---- read models ------------------------------------------------------------------------------------


class ComponentHealth(BaseModel):
    model_config = _DTO
    status: HealthState
    reason: str = ""
    detail: str = ""  # the same text as reason (kept for earlier clients)
    last_ok_ms: int | None = Field(default=None, description="when the component was last seen working")
    until_ms: int | None = Field(default=None, description="rate limit: when requests may go out again")

    @model_validator(mode="after")
    def _reason_and_detail_agree(self) -> ComponentHealth:
        if self.reason and not self.detail:
            object.__setattr__(self, "detail", self.reason)
        elif self.detail and not self.reason:
            object.__setattr__(self, "reason", self.detail)
        return self


class HealthReport(BaseModel):
    model_config = _DTO
    status: HealthState
    components: dict[str, ComponentHealth] = Field(default_factory=dict)

    @classmethod
    def combine(cls, components: Mapping[str, ComponentHealth]) -> HealthReport:
        """Overall state = the worst component state (no components: healthy)."""
        order = [HealthState.HEALTHY, HealthState.DEGRADED, HealthState.DOWN]
        worst = max((order.index(c.status) for c in components.values()), default=0)
        return cls(status=order[worst], components=dict(components))


class TradingMetrics(BaseModel):
    """Headline execution and performance statistics (None where not enough data yet)."""

    model_config = _DTO
    trades: int = 0
    wins: int = 0
    losses: int = 0
    win_rate: float | None = None
    profit_factor: float | None = None
    expectancy: Decimal | None = None
    sharpe: float | None = None
    sortino: float | None = None
    max_drawdown: float | None = None
    max_drawdown_abs: Decimal | None = None
    total_pnl: Decimal = Decimal(0)
    daily_pnl: Decimal = Decimal(0)
    equity: Decimal | None = None
    exposure: Decimal = Decimal(0)
    orders_submitted: int = 0
    orders_filled: int = 0
    orders_rejected: int = 0
    fill_rate: float | None = None
    rejection_rate: float | None = None
    avg_slippage_bps: float | None = None
    p99_slippage_bps: float | None = None
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None
    indicator_ms_p50: float | None = None
    indicator_ms_p99: float | None = None
    signals: int = 0
    signals_rejected: int = 0
    open_positions: int = 0
    bus_rates: dict[str, float] = Field(default_factory=dict)
    bus_max_queue_depth: int | None = None
    bus_dropped: int = 0
    cpu_percent: float | None = None
    rss_bytes: int | None = None


class BackgroundTask(BaseModel):
    """One supervised long-running loop: restarted with backoff when it fails."""

    model_config = _DTO
    name: str
    state: Literal["running", "backoff", "completed", "failed", "cancelled"]
    restarts: int = 0
    failures: int = 0
    last_error: str | None = None
    next_retry_in: float | None = None


class StatusReport(BaseModel):
    model_config = _DTO
    mode: str = "paper"
    started_at_ms: int
    uptime_s: float
    trading_state: TradingState
    trading_state_reason: str = ""
    active_positions: int
    pending_orders: int
    enabled_strategies: list[str]
    symbols: list[str] = Field(default_factory=list)
    metrics: TradingMetrics
    tasks: list[BackgroundTask] = Field(default_factory=list)


class ConfigView(BaseModel):
    """The effective configuration, secrets redacted."""

    model_config = _DTO
    version: int
    strategies: dict[str, dict[str, Any]]
    risk: dict[str, Any]
    other: dict[str, Any] = Field(default_factory=dict)


class ConfigVersion(BaseModel):
    model_config = _DTO
    version: int
    section: str
    changed_at_ms: int
    changes: dict[str, Any] = Field(default_factory=dict)
    source: str = ""


class ConfigValidation(BaseModel):
    model_config = _DTO
    valid: bool
    errors: list[FieldError] = Field(default_factory=list)


class PositionView(BaseModel):
    model_config = _DTO
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
    model_config = _DTO
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
    model_config = _DTO
    items: list[OrderView]
    total: int
    limit: int
    offset: int


class StrategyView(BaseModel):
    model_config = _DTO
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


class EquityPoint(BaseModel):
    model_config = _DTO
    time_ms: int
    equity: Decimal


class PerformanceReport(BaseModel):
    model_config = _DTO
    metrics: TradingMetrics
    equity_curve: list[EquityPoint] = Field(default_factory=list)
    by_strategy: dict[str, TradingMetrics] = Field(default_factory=dict)


class RiskReport(BaseModel):
    model_config = _DTO
    trading_state: TradingState
    equity: Decimal | None = None
    exposure: Decimal
    exposure_limit: Decimal | None = None
    daily_pnl: Decimal
    daily_loss_limit: Decimal | None = None
    drawdown: float | None = None
    max_drawdown_limit: float | None = None
    open_positions: int
    max_positions: int | None = None
    limits: dict[str, Any] = Field(default_factory=dict)


class TradeView(BaseModel):
    model_config = _DTO
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
    model_config = _DTO
    items: list[TradeView]
    total: int
    limit: int
    offset: int


class SignalView(BaseModel):
    """A recent signal: accepted by risk, or rejected with its reasons."""

    model_config = _DTO
    signal_id: str
    time_ms: int
    strategy_id: str
    symbol: str
    direction: str
    accepted: bool
    reasons: list[str]
    entry_price: Decimal | None = None
    stop_loss: Decimal | None = None


class TradingStateView(BaseModel):
    model_config = _DTO
    state: TradingState
    reason: str = ""
    changed_at_ms: int | None = None


class EmergencyStopReport(BaseModel):
    model_config = _DTO
    state: TradingState
    canceled_orders: list[str] = Field(default_factory=list)
    closing_orders: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class CandleView(BaseModel):
    model_config = _DTO
    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool = True

    @classmethod
    def from_domain(cls, candle: Candle) -> CandleView:
        return cls(
            open_time_ms=candle.open_time,
            open=candle.open,
            high=candle.high,
            low=candle.low,
            close=candle.close,
            volume=candle.volume,
            closed=candle.closed,
        )


class IndicatorView(BaseModel):
    """The latest indicator snapshot for a symbol, as JSON-ready data (see ``api.serialize``)."""

    model_config = _DTO
    symbol: str
    time_ms: int
    base_timeframe: str
    active_windows: list[str] = Field(default_factory=list)
    views: dict[str, dict[str, Any]] = Field(default_factory=dict)


# ---- requests (inputs) ------------------------------------------------------------------------------


class StrategyConfigUpdate(BaseModel):
    """Partial update of one strategy's configuration; omitted fields stay as they are."""

    model_config = _INPUT
    strategy_id: Identifier
    enabled: bool | None = None
    risk_per_trade_pct: RiskPercent | None = None
    risk_per_trade: Fraction | None = _LEGACY_RISK
    max_positions: Annotated[int, Field(ge=0, le=1000)] | None = None
    symbols: Annotated[list[SymbolName], Field(max_length=100)] | None = None
    params: Annotated[dict[Identifier, ScalarParam], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_risk_name(self) -> StrategyConfigUpdate:
        _one_risk_name(self.model_fields_set)
        return self


class RiskConfigUpdate(BaseModel):
    """Partial update of the risk limits; omitted fields stay as they are."""

    model_config = _INPUT
    risk_per_trade_pct: RiskPercent | None = None
    risk_per_trade: Fraction | None = _LEGACY_RISK
    max_daily_loss: Fraction | None = None
    max_drawdown: Fraction | None = None
    max_positions: Annotated[int, Field(ge=0, le=1000)] | None = None
    max_exposure: Annotated[Decimal, Field(gt=0, le=100, max_digits=12, decimal_places=8)] | None = None
    max_leverage: Annotated[int, Field(ge=1, le=125)] | None = None
    cooldown_s: Annotated[int, Field(ge=0, le=86_400 * 7)] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> RiskConfigUpdate:
        if not self.model_fields_set:
            raise ValueError("at least one risk field must be given")
        _one_risk_name(self.model_fields_set)
        return self


def _one_risk_name(given: set[str]) -> None:
    if {"risk_per_trade", "risk_per_trade_pct"} <= given:
        raise ValueError("give risk_per_trade_pct (percent) only; risk_per_trade (a fraction) is its deprecated name")


class ConfigDocument(BaseModel):
    """A candidate configuration change to validate without applying it."""

    model_config = _INPUT
    strategies: Annotated[list[StrategyConfigUpdate], Field(max_length=100)] | None = None
    risk: RiskConfigUpdate | None = None


class ManualOrderRequest(BaseModel):
    """A manual entry order; it goes through the risk engine like any signal."""

    model_config = _INPUT
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
    model_config = _INPUT
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
    model_config = _INPUT
    symbol: SymbolName | None = None
    strategy_id: Identifier | None = None
    since_ms: TimestampMs | None = None
    until_ms: TimestampMs | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class SignalQuery(BaseModel):
    model_config = _INPUT
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    rejected_only: bool = False


class CandleQuery(BaseModel):
    model_config = _INPUT
    symbol: SymbolName
    timeframe: Timeframe = Timeframe.M5
    limit: Annotated[int, Field(ge=1, le=1000)] = 200
    end_ms: TimestampMs | None = None


# ---- the facade -------------------------------------------------------------------------------------


@runtime_checkable
class TradingFacade(Protocol):
    """Everything the API may do. All methods are coroutines running on the application's loop."""

    # system
    async def health(self) -> HealthReport: ...
    async def status(self) -> StatusReport: ...
    async def metrics(self) -> TradingMetrics: ...

    # configuration
    async def get_config(self) -> ConfigView: ...
    async def update_strategy_config(self, update: StrategyConfigUpdate) -> ConfigView: ...
    async def update_risk_config(self, update: RiskConfigUpdate) -> ConfigView: ...
    async def validate_config(self, document: ConfigDocument) -> ConfigValidation: ...
    async def config_history(self, limit: int) -> list[ConfigVersion]: ...
    async def rollback_config(self, version: int) -> ConfigView: ...

    # positions
    async def list_positions(self, include_closed: bool) -> list[PositionView]: ...
    async def get_position(self, position_id: str) -> PositionView: ...
    async def close_position(self, position_id: str, reason: str) -> OrderView: ...

    # orders
    async def list_orders(self, query: OrderQuery) -> OrderPage: ...
    async def get_order(self, client_order_id: str) -> OrderView: ...
    async def create_manual_order(self, request: ManualOrderRequest) -> OrderView: ...
    async def cancel_order(self, client_order_id: str) -> OrderView: ...

    # strategies
    async def list_strategies(self) -> list[StrategyView]: ...
    async def set_strategy_enabled(self, strategy_id: str, enabled: bool) -> StrategyView: ...

    # analytics
    async def performance(self) -> PerformanceReport: ...
    async def risk_report(self) -> RiskReport: ...
    async def trades(self, query: TradeQuery) -> TradePage: ...
    async def recent_signals(self, query: SignalQuery) -> list[SignalView]: ...

    # trading state
    async def halt_trading(self, reason: str) -> TradingStateView: ...
    async def resume_trading(self) -> TradingStateView: ...
    async def emergency_stop(self, reason: str) -> EmergencyStopReport: ...

    # market data
    async def candles(self, query: CandleQuery) -> list[CandleView]: ...
    async def indicators(self, symbol: str, timeframe: str | None) -> IndicatorView: ...
