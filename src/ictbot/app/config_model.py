"""The trading configuration document (``.config/trading_config.json``).

Sections: exchange, strategies, risk, indicators, execution, notifications. Every model forbids unknown fields,
so a typo is an error naming the field rather than a silently ignored setting. Secrets never live
here (they come from the environment).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.strategies.registry import StrategyEntry


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExchangeSection(_Strict):
    name: str = "binance"
    market: Market = Market.SPOT
    symbols: list[str] = Field(default_factory=lambda: ["BTCUSDT"], min_length=1)
    base_timeframe: Timeframe = Timeframe.M5
    context_timeframes: list[Timeframe] = Field(
        default_factory=lambda: [Timeframe.M15, Timeframe.H1, Timeframe.H4]
    )
    quote_asset: str = "USDT"
    recv_window_ms: int = Field(default=5000, gt=0, le=60000)

    @field_validator("symbols")
    @classmethod
    def _upper_symbols(cls, value: list[str]) -> list[str]:
        cleaned = [symbol.strip().upper() for symbol in value]
        for symbol in cleaned:
            if not symbol.isalnum():
                raise ValueError(f"symbol {symbol!r} must be letters and digits, e.g. BTCUSDT")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("symbols must not repeat")
        return cleaned

    @field_validator("context_timeframes")
    @classmethod
    def _no_duplicates(cls, value: list[Timeframe]) -> list[Timeframe]:
        if len(set(value)) != len(value):
            raise ValueError("context timeframes must not repeat")
        return value


class StrategyConfigEntry(StrategyEntry):
    """One strategy's configuration entry: the registry's keys (``strategies.registry.StrategyEntry``:
    enabled, type, source, symbols, params) plus the per-strategy limits the risk stage reads."""

    risk_per_trade_pct: float | None = Field(
        default=None, gt=0, le=10,
        description="percent of equity at risk per trade for this strategy (0.5 = 0.5 %); "
                    "unset: the risk section's risk_per_trade_pct",
    )
    max_positions: int = Field(default=1, ge=1, le=100)


class ExecutionSection(_Strict):
    entry_order_type: str = Field(default="MARKET", pattern="^(MARKET|LIMIT)$")
    entry_timeout_seconds: float = Field(default=900, gt=0)
    stop_fill_timeout_seconds: float = Field(default=30, gt=0)
    reconcile_interval_seconds: float = Field(default=60, gt=0)
    use_oco: bool = True
    entry_lists: bool = Field(
        default=True,
        description="spot entries as one OTOCO order list (the exchange places stop and target the moment the "
                    "entry fills) where the symbol allows OTO; false: entry first, then the bot's own OCO",
    )
    slippage_tolerance_bps: float = Field(default=50, ge=0)
    breakeven_at_r: float | None = Field(
        default=None, gt=0, le=100, description="move the stop to the entry once the close is this many R in profit",
    )
    breakeven_offset: float = Field(default=0, ge=0, le=0.05, description="breakeven stop beyond the entry, fraction")
    trail_at_r: float | None = Field(
        default=None, gt=0, le=100, description="from this many R in profit, trail the stop behind the close",
    )
    trail_distance: float = Field(default=0.01, gt=0, lt=0.5, description="trailing distance, fraction of the price")


class IndicatorsSection(_Strict):
    warmup_candles: int = Field(default=5000, ge=0)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict, description="per timeframe overrides")


class TradingConfig(_Strict):
    exchange: ExchangeSection = Field(default_factory=ExchangeSection)
    strategies: dict[str, StrategyConfigEntry] = Field(
        default_factory=lambda: {"strategy_a": StrategyConfigEntry(), "strategy_b": StrategyConfigEntry()}
    )
    risk: dict[str, Any] = Field(default_factory=dict)
    indicators: IndicatorsSection = Field(default_factory=IndicatorsSection)
    execution: ExecutionSection = Field(default_factory=ExecutionSection)
    notifications: dict[str, Any] = Field(default_factory=dict, description="validated by ictbot.notify.config")


SECTIONS = ("exchange", "strategies", "risk", "indicators", "execution", "notifications")
