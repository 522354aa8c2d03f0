"""Where a backtest departs from what the live bot would do with the same configuration.

A backtest starts from the live trading configuration (risk limits, circuit breakers, fee rate,
stop rules, strategy parameters); every option that changes that — or a modelling choice that live
trading does not have — is listed in the results as ``deviations_from_live``, so a result is never
mistaken for what the live bot would have traded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ictbot.risk.limits import RiskLimits

DEFAULT_CASH = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Deviation:
    setting: str
    backtest: str
    live: str

    def to_json(self) -> dict[str, str]:
        return {"setting": self.setting, "backtest": self.backtest, "live": self.live}

    def describe(self) -> str:
        return f"{self.setting}: {self.backtest} (live: {self.live})"


@dataclass(frozen=True, slots=True)
class RunChoices:
    """The inputs of a run that can depart from live (a view of ``BacktestSpec``)."""

    strategy: str
    reference: bool  # a comparison strategy with no live equivalent (S1/S2)
    stake: Decimal
    initial_cash: Decimal
    fee_rate: Decimal
    slippage_bps: Decimal
    limit_fills_on_touch: bool
    detail_timeframe: str | None
    circuit_breakers: bool


def deviations_from_live(run: RunChoices, live: RiskLimits, extra: Iterable[Deviation] = ()) -> list[Deviation]:
    """``live``: the risk section of the trading configuration the run started from."""
    found: list[Deviation] = []
    if run.reference:
        found.append(Deviation("strategy", f"{run.strategy}: reference strategy with a fixed stake of {run.stake} "
                               "per trade, one position, no reward:risk, duplicate, cooldown or loss limits",
                               "no live equivalent"))
    if not run.circuit_breakers:
        found.append(Deviation("circuit_breakers", "off", "on (daily loss, drawdown, losing streak)"))
    if run.fee_rate != live.taker_fee_rate:
        found.append(Deviation("fee_rate", f"{run.fee_rate} per fill (fills and the risk gate)",
                               f"{live.taker_fee_rate} taker (risk.taker_fee_rate)"))
    if live.maker_fee_rate != live.taker_fee_rate:
        found.append(Deviation("maker_fee_rate", f"every fill charged {run.fee_rate}",
                               f"maker fills charged {live.maker_fee_rate}"))
    if run.limit_fills_on_touch:
        found.append(Deviation("limit_fills_on_touch", "a touch fills targets and limit entries",
                               "a resting order fills only when the price trades through it"))
    if run.slippage_bps:
        found.append(Deviation("slippage_bps", f"{run.slippage_bps} bps on market and stop fills",
                               "the market's own slippage"))
    if run.detail_timeframe is not None:
        found.append(Deviation("detail_timeframe", f"{run.detail_timeframe} candles order stop and target",
                               "the real order of trades within a candle"))
    if run.initial_cash != DEFAULT_CASH:
        found.append(Deviation("initial_cash", f"{run.initial_cash} per symbol", "the account's balance"))
    found.extend(extra)
    return found
