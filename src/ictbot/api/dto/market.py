"""The API's candles and indicator snapshots, and the candle query."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ictbot.api.dto.fields import DTO_CONFIG, INPUT_CONFIG, SymbolName, TimestampMs
from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe


class CandleView(BaseModel):
    model_config = DTO_CONFIG
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

    model_config = DTO_CONFIG
    symbol: str
    time_ms: int
    base_timeframe: str
    active_windows: list[str] = Field(default_factory=list)
    active_window_bounds: dict[str, list[int]] = Field(
        default_factory=dict, description="[start_ms, end_ms) of each active window's session in progress")
    views: dict[str, dict[str, Any]] = Field(default_factory=dict)


class CandleQuery(BaseModel):
    model_config = INPUT_CONFIG
    symbol: SymbolName
    timeframe: Timeframe = Timeframe.M5
    limit: Annotated[int, Field(ge=1, le=1000)] = 200
    end_ms: TimestampMs | None = None
