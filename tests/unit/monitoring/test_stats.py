"""Trade statistics against values computed by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from ictbot.monitoring import stats

D = Decimal
PNLS = [D(100), D(-50), D(200), D(-25), D(0)]


def test_win_rate() -> None:
    assert stats.win_rate(PNLS) == pytest.approx(2 / 5)
    assert stats.win_rate([]) is None


def test_profit_factor() -> None:
    assert stats.profit_factor(PNLS) == pytest.approx(300 / 75)  # 4.0
    assert stats.profit_factor([D(10)]) is None
    assert stats.profit_factor([D(-10)]) == 0.0


def test_expectancy() -> None:
    assert stats.expectancy(PNLS) == D(45)
    assert stats.expectancy([]) is None


def test_sharpe_hand_computed() -> None:
    returns = [0.01, -0.02, 0.03, 0.0]
    # mean 0.005; deviations .005 -.025 .025 -.005 -> squares sum .00130; /3 = .000433333; sd .0208167
    expected = 0.005 / math.sqrt(0.0013 / 3) * math.sqrt(365)
    assert stats.sharpe(returns) == pytest.approx(expected)
    assert stats.sharpe(returns) == pytest.approx(4.5888, abs=1e-3)
    assert stats.sharpe([0.01]) is None
    assert stats.sharpe([0.01, 0.01]) is None


def test_sortino_hand_computed() -> None:
    returns = [0.01, -0.02, 0.03, 0.0]
    # downside: only -0.02 -> sqrt(0.0004 / 4) = 0.01
    assert stats.sortino(returns, periods_per_year=1) == pytest.approx(0.005 / 0.01)
    assert stats.sortino([0.01, 0.02]) is None


def test_max_drawdown() -> None:
    frac, absolute = stats.max_drawdown([100, 120, 90, 130, 104, 110])
    # falls: 120 -> 90 = 30 (25%), 130 -> 104 = 26 (20%)
    assert absolute == pytest.approx(30)
    assert frac == pytest.approx(0.25)
    assert stats.max_drawdown([1, 2, 3]) == (0.0, 0.0)
    assert stats.max_drawdown([]) == (None, 0.0)
    assert stats.max_drawdown([0, -10, 5])[1] == pytest.approx(10)


def test_daily_returns_uses_last_equity_per_day() -> None:
    day = stats.DAY_MS
    points = [(10, 1010), (20, 1020), (day + 5, 1071), (3 * day, 1049.58)]
    assert stats.daily_returns(points, start_equity=1000) == pytest.approx([0.02, 0.05, -0.02])


def test_percentile_matches_linear_interpolation() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert stats.percentile(values, 50) == pytest.approx(2.5)
    assert stats.percentile(values, 99) == pytest.approx(3.97)
    assert stats.percentile(values, 0) == 1.0 and stats.percentile(values, 100) == 4.0
    assert stats.percentile([], 50) is None


def test_slippage_sign() -> None:
    assert stats.slippage_bps(+1, D(100), D("100.5")) == pytest.approx(50)  # buy paid more: adverse
    assert stats.slippage_bps(-1, D(100), D("100.5")) == pytest.approx(-50)  # sell got more: favourable
    with pytest.raises(ValueError):
        stats.slippage_bps(1, D(0), D(1))
