from __future__ import annotations

import math

import pytest

from ictbot.optimize.objectives import INFEASIBLE, OBJECTIVES, metric_of, score

SUMMARY = {"trades": 20, "total_return_pct": 4.5, "sharpe": 1.2, "sortino": 1.8, "cagr_pct": 30.0,
           "max_drawdown_pct": 10.0, "profit_factor": 1.4}


@pytest.mark.parametrize(("objective", "expected"), [
    ("net_return", 4.5), ("sharpe", 1.2), ("sortino", 1.8), ("calmar", 3.0), ("profit_factor", 1.4)])
def test_each_objective_reads_its_metric(objective: str, expected: float) -> None:
    assert metric_of(SUMMARY, objective) == pytest.approx(expected)
    assert score(SUMMARY, objective, min_trades=5).value == pytest.approx(expected)


def test_too_few_trades_cannot_win_however_good_the_metric() -> None:
    lucky = {**SUMMARY, "trades": 3, "sharpe": 25.0}
    result = score(lucky, "sharpe", min_trades=10)
    assert not result.feasible and result.value == INFEASIBLE and result.metric == 25.0
    assert "3 trades < --min-trades 10" in (result.reason or "")
    assert result.value < score({**SUMMARY, "sharpe": -5.0}, "sharpe", min_trades=10).value


def test_undefined_metric_is_infeasible() -> None:
    no_losses = {**SUMMARY, "profit_factor": None}
    assert not score(no_losses, "profit_factor", 1).feasible
    assert metric_of({**SUMMARY, "max_drawdown_pct": 0.0}, "calmar") is None
    assert math.isinf(score({**SUMMARY, "max_drawdown_pct": 0.0}, "calmar", 1).value)


def test_unknown_objective_names_the_flag() -> None:
    with pytest.raises(ValueError, match="--objective must be one of"):
        metric_of(SUMMARY, "winrate")
    assert set(OBJECTIVES) == {"net_return", "sharpe", "sortino", "calmar", "profit_factor"}
