"""Field types shared by the API's DTOs: bounded strings and amounts, and the models' configs."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field

DTO_CONFIG = ConfigDict(frozen=True)  # answers
INPUT_CONFIG = ConfigDict(extra="forbid", frozen=True)  # requests: an unknown field is refused

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
SymbolName = Annotated[str, Field(min_length=2, max_length=20, pattern=r"^[A-Z0-9]+$")]
PositiveAmount = Annotated[Decimal, Field(gt=0, max_digits=30, decimal_places=12, allow_inf_nan=False)]
Fraction = Annotated[Decimal, Field(gt=0, le=1, max_digits=12, decimal_places=8, allow_inf_nan=False)]
# Risk per trade, in percent of equity (0.5 = 0.5 %): the one name and unit of config, CLI and API.
RiskPercent = Annotated[Decimal, Field(gt=0, le=10, max_digits=12, decimal_places=8, allow_inf_nan=False)]
LEGACY_RISK = Field(default=None, json_schema_extra={"deprecated": True},
                    description="deprecated: the same as a fraction (0.005 = 0.5 %); use risk_per_trade_pct")
Reason = Annotated[str, Field(max_length=200)]
TimestampMs = Annotated[int, Field(ge=0, le=10**14)]
ScalarParam = bool | int | float | str | None

WS_TYPES = ("signal", "order", "position", "metric", "alert", "config", "candle", "indicator")
