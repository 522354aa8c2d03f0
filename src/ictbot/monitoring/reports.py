"""Monitoring's own report types: component health and the trading statistics.

Monitoring computes them; the API serves them as they are (``api.dto`` re-exports them), so the
API's schema depends on monitoring and never the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

_REPORT = ConfigDict(frozen=True)


class HealthState(str, Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # trading goes on, with a problem worth attention
    DOWN = "down"  # trading cannot proceed; /health answers 503
    UNHEALTHY = "down"  # the former name of DOWN


class ComponentHealth(BaseModel):
    model_config = _REPORT
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
    model_config = _REPORT
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

    model_config = _REPORT
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


class EquityPoint(BaseModel):
    model_config = _REPORT
    time_ms: int
    equity: Decimal
