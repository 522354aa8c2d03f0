"""What a trial is scored by: one metric of the backtest summary, maximised, and the minimum-trade
constraint. A parameter set with fewer trades than ``min_trades`` (or whose metric is undefined,
e.g. a profit factor without a losing trade) is infeasible: it scores ``-inf`` and never wins."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OBJECTIVES = ("net_return", "sharpe", "sortino", "calmar", "profit_factor")
INFEASIBLE = float("-inf")


@dataclass(frozen=True)
class Score:
    value: float  # INFEASIBLE when the constraint is not met
    metric: float | None  # the raw metric, also for infeasible sets
    trades: int
    reason: str | None = None  # why infeasible

    @property
    def feasible(self) -> bool:
        return self.reason is None


def calmar(summary: Mapping[str, Any]) -> float | None:
    """Annual growth over the worst drawdown (both in %); undefined without a drawdown."""
    drawdown = summary.get("max_drawdown_pct")
    cagr = summary.get("cagr_pct")
    if drawdown is None or cagr is None or drawdown <= 0:
        return None
    return float(cagr) / float(drawdown)


def metric_of(summary: Mapping[str, Any], objective: str) -> float | None:
    if objective not in OBJECTIVES:
        raise ValueError(f"--objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    if objective == "calmar":
        return calmar(summary)
    key = {"net_return": "total_return_pct"}.get(objective, objective)
    value = summary.get(key)
    return None if value is None or not math.isfinite(float(value)) else float(value)


def score(summary: Mapping[str, Any], objective: str, min_trades: int) -> Score:
    trades = int(summary.get("trades") or 0)
    metric = metric_of(summary, objective)
    if trades < min_trades:
        return Score(INFEASIBLE, metric, trades, f"{trades} trades < --min-trades {min_trades}")
    if metric is None:
        return Score(INFEASIBLE, None, trades, f"{objective} is undefined for this run")
    return Score(metric, metric, trades)
