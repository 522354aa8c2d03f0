"""Candles (klines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe, ms_to_datetime


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar. ``open_time`` is milliseconds since the Unix epoch, UTC.

    ``closed`` is True only for a finished bar; an open bar may still change.
    """

    symbol: str
    timeframe: Timeframe
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool = True
    quote_volume: Decimal = Decimal(0)
    trades: int = 0
    exchange: str = "binance"
    market: Market = Market.SPOT

    @property
    def close_time(self) -> int:
        """Exclusive close instant in ms (Binance reports ``close_time - 1``)."""
        return self.open_time + self.timeframe.ms

    @property
    def open_datetime(self) -> datetime:
        return ms_to_datetime(self.open_time)

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.exchange, self.market.value, self.symbol, self.timeframe.value, self.open_time)

    def problems(self) -> list[str]:
        """Reasons this candle is not a valid bar (empty when valid)."""
        found: list[str] = []
        if min(self.open, self.high, self.low, self.close) <= 0:
            found.append("non-positive price")
        if self.high < self.low:
            found.append("high < low")
        if not (self.low <= self.open <= self.high and self.low <= self.close <= self.high):
            found.append("open/close outside [low, high]")
        if self.volume < 0:
            found.append("negative volume")
        if self.open_time != self.timeframe.floor(self.open_time):
            found.append(f"open time not aligned to {self.timeframe.value}")
        return found
