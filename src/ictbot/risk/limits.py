"""Risk parameters: the ``risk`` section of the trading configuration.

Percentages are written as percent (``1`` = 1 %), fee rates as fractions (``0.001`` = 0.1 %).
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ictbot.risk.state import BreakerReason, TradingState


class SizingMode(str, Enum):
    RISK_PERCENT = "risk_percent"  # lose at most risk_per_trade_pct of equity (fees included) at the stop
    FIXED_NOTIONAL = "fixed_notional"  # always about fixed_notional quote units
    FIXED_QUANTITY = "fixed_quantity"  # always exactly fixed_quantity base units


def _default_breaker_states() -> dict[BreakerReason, TradingState]:
    return {
        BreakerReason.DAILY_LOSS: TradingState.REDUCING,
        BreakerReason.MAX_DRAWDOWN: TradingState.HALTED,
        BreakerReason.CONSECUTIVE_LOSSES: TradingState.REDUCING,
        BreakerReason.STALE_DATA: TradingState.REDUCING,
        BreakerReason.RECONCILIATION_MISMATCH: TradingState.HALTED,
        BreakerReason.MANUAL: TradingState.HALTED,
    }


class RiskLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # ---- sizing --------------------------------------------------------------------------------
    sizing_mode: SizingMode = SizingMode.RISK_PERCENT
    risk_per_trade_pct: Decimal = Field(default=Decimal("1"), gt=0, le=10)
    fixed_notional: Decimal | None = Field(default=None, gt=0)
    fixed_quantity: Decimal | None = Field(default=None, gt=0)
    max_leverage: int = Field(default=1, ge=1, le=125, description="Futures only; spot is always 1x.")
    maker_fee_rate: Decimal = Field(default=Decimal("0.001"), ge=0, lt=Decimal("0.05"))
    taker_fee_rate: Decimal = Field(default=Decimal("0.001"), ge=0, lt=Decimal("0.05"))
    allow_short_on_spot: bool = Field(default=False, description="Spot shorts need borrowed coins; off.")

    # ---- per-signal checks ---------------------------------------------------------------------
    max_open_positions: int = Field(default=3, ge=1)
    max_open_positions_per_symbol: int = Field(default=1, ge=1)
    max_symbol_exposure_pct: Decimal = Field(default=Decimal("50"), gt=0, le=Decimal(12_500))
    max_total_exposure_pct: Decimal = Field(default=Decimal("100"), gt=0, le=Decimal(12_500))
    min_reward_risk: Decimal = Field(default=Decimal("1.5"), ge=0)
    max_slippage_pct: Decimal = Field(default=Decimal("0.5"), ge=0, le=Decimal(100))
    duplicate_window_seconds: int = Field(default=300, ge=0)
    cooldown_after_stop_minutes: int = Field(default=30, ge=0)
    pending_intent_ttl_seconds: int = Field(default=120, ge=1)

    # ---- circuit breakers ------------------------------------------------------------------------
    daily_loss_limit_pct: Decimal = Field(default=Decimal("3"), gt=0, le=100)
    max_drawdown_pct: Decimal = Field(default=Decimal("10"), gt=0, le=100)
    max_consecutive_losses: int = Field(default=4, ge=1)
    stale_data_halt_seconds: int = Field(
        default=300, ge=0, description="Trip the stale-data breaker after this long without fresh data; 0 = never."
    )
    breaker_states: dict[BreakerReason, TradingState] = Field(default_factory=_default_breaker_states)

    @field_validator("breaker_states")
    @classmethod
    def _breakers_restrict(cls, value: dict[BreakerReason, TradingState]) -> dict[BreakerReason, TradingState]:
        loose = [reason.value for reason, state in value.items() if state is TradingState.ACTIVE]
        if loose:
            raise ValueError(f"a breaker must move trading to REDUCING or HALTED, not ACTIVE: {', '.join(loose)}")
        return {**_default_breaker_states(), **value}

    @model_validator(mode="after")
    def _consistent(self) -> RiskLimits:
        if self.sizing_mode is SizingMode.FIXED_NOTIONAL and self.fixed_notional is None:
            raise ValueError("sizing_mode fixed_notional needs fixed_notional (quote amount per trade)")
        if self.sizing_mode is SizingMode.FIXED_QUANTITY and self.fixed_quantity is None:
            raise ValueError("sizing_mode fixed_quantity needs fixed_quantity (base amount per trade)")
        if self.max_open_positions_per_symbol > self.max_open_positions:
            raise ValueError("max_open_positions_per_symbol cannot exceed max_open_positions")
        if self.max_symbol_exposure_pct > self.max_total_exposure_pct:
            raise ValueError("max_symbol_exposure_pct cannot exceed max_total_exposure_pct")
        return self

    def breaker_state(self, reason: BreakerReason) -> TradingState:
        return self.breaker_states.get(reason, TradingState.HALTED)
