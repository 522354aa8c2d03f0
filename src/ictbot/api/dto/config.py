"""The API's configuration views and configuration change requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from ictbot.api.dto.fields import (
    DTO_CONFIG,
    INPUT_CONFIG,
    LEGACY_RISK,
    Fraction,
    Identifier,
    RiskPercent,
    ScalarParam,
    SymbolName,
)
from ictbot.ports.facade import FieldError


class ConfigView(BaseModel):
    """The effective configuration, secrets redacted."""

    model_config = DTO_CONFIG
    version: int
    strategies: dict[str, dict[str, Any]]
    risk: dict[str, Any]
    other: dict[str, Any] = Field(default_factory=dict)


class ConfigVersion(BaseModel):
    model_config = DTO_CONFIG
    version: int
    section: str
    changed_at_ms: int
    changes: dict[str, Any] = Field(default_factory=dict)
    source: str = ""


class ConfigValidation(BaseModel):
    model_config = DTO_CONFIG
    valid: bool
    errors: list[FieldError] = Field(default_factory=list)


class StrategyConfigUpdate(BaseModel):
    """Partial update of one strategy's configuration; omitted fields stay as they are."""

    model_config = INPUT_CONFIG
    strategy_id: Identifier
    enabled: bool | None = None
    risk_per_trade_pct: RiskPercent | None = None
    risk_per_trade: Fraction | None = LEGACY_RISK
    max_positions: Annotated[int, Field(ge=0, le=1000)] | None = None
    symbols: Annotated[list[SymbolName], Field(max_length=100)] | None = None
    params: Annotated[dict[Identifier, ScalarParam], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_risk_name(self) -> StrategyConfigUpdate:
        _one_risk_name(self.model_fields_set)
        return self


class RiskConfigUpdate(BaseModel):
    """Partial update of the risk limits; omitted fields stay as they are."""

    model_config = INPUT_CONFIG
    risk_per_trade_pct: RiskPercent | None = None
    risk_per_trade: Fraction | None = LEGACY_RISK
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

    model_config = INPUT_CONFIG
    strategies: Annotated[list[StrategyConfigUpdate], Field(max_length=100)] | None = None
    risk: RiskConfigUpdate | None = None
