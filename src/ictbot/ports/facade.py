"""The application facade: every operation the API (and CLI) may perform on the running system.

The API calls only this Protocol. The real implementation lives in ``ictbot.app.facade`` and talks
to the running services; tests use an in-memory fake. Everything crossing this boundary is a plain
pydantic DTO of the API's schema (``ictbot.api.dto``, which re-exports monitoring's reports from
``ictbot.monitoring.reports``; Decimal for money, ms-since-epoch UTC for times), and every expected
failure is one of three typed errors defined here, which the API maps to HTTP statuses:

* ``NotFound``          -> 404 (unknown position / order / strategy / config version / symbol)
* ``Conflict``          -> 409 (the request is valid but the current state forbids it:
                           closing a closed position, cancelling a filled order, risk denied,
                           trading halted)
* ``ValidationFailed``  -> 422 (semantic validation beyond field types, with field-level reasons)

DTOs never carry secrets (API keys, tokens, passwords); ``ConfigView`` is built from a redacted
configuration (see ``ictbot.domain.redaction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    # Type-only: the port is phrased in the API's schema (issue #20: the DTOs live in api/); at run
    # time ports imports nothing above the core (named exception in the import contract).
    from ictbot.api.dto import (
        CandleQuery,
        CandleView,
        ConfigDocument,
        ConfigValidation,
        ConfigVersion,
        ConfigView,
        EmergencyStopReport,
        HealthReport,
        IndicatorView,
        ManualOrderRequest,
        OrderPage,
        OrderQuery,
        OrderView,
        PerformanceReport,
        PositionView,
        RiskConfigUpdate,
        RiskReport,
        SignalQuery,
        SignalView,
        StatusReport,
        StrategyConfigUpdate,
        StrategyView,
        TradePage,
        TradeQuery,
        TradingMetrics,
        TradingStateView,
    )

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
