"""The API's answers about the running system: status, trading state, risk and performance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from ictbot.api.dto.fields import DTO_CONFIG
from ictbot.monitoring.reports import EquityPoint, TradingMetrics
from ictbot.risk.state import TradingState  # the risk engine's own: one type per concept


class BackgroundTask(BaseModel):
    """One supervised long-running loop: restarted with backoff when it fails."""

    model_config = DTO_CONFIG
    name: str
    state: Literal["running", "backoff", "completed", "failed", "cancelled"]
    restarts: int = 0
    failures: int = 0
    last_error: str | None = None
    next_retry_in: float | None = None


class StatusReport(BaseModel):
    model_config = DTO_CONFIG
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


class TradingStateView(BaseModel):
    model_config = DTO_CONFIG
    state: TradingState
    reason: str = ""
    changed_at_ms: int | None = None


class EmergencyStopReport(BaseModel):
    model_config = DTO_CONFIG
    state: TradingState
    canceled_orders: list[str] = Field(default_factory=list)
    closing_orders: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class RiskReport(BaseModel):
    model_config = DTO_CONFIG
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


class PerformanceReport(BaseModel):
    model_config = DTO_CONFIG
    metrics: TradingMetrics
    equity_curve: list[EquityPoint] = Field(default_factory=list)
    by_strategy: dict[str, TradingMetrics] = Field(default_factory=dict)
