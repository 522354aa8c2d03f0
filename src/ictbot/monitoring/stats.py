"""Trade statistics as pure functions (float results; inputs may be Decimal).

Conventions (documented because they differ between tools):

* a trade wins when its net P&L is > 0; break-even trades count in the denominator of the win rate;
* profit factor = gross profit / gross loss, ``None`` when there is no losing trade (undefined);
* Sharpe and Sortino use per-period simple returns, sample standard deviation (ddof = 1) for Sharpe,
  downside deviation sqrt(mean(min(r - target, 0)^2)) over all periods for Sortino, annualised by
  sqrt(periods_per_year) (365 for crypto daily returns), risk-free rate 0 by default;
* max drawdown is the largest peak-to-trough fall of the equity curve, as a fraction of the peak
  and in absolute terms.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from decimal import Decimal

Number = float | int | Decimal
DAY_MS = 86_400_000


def win_rate(pnls: Sequence[Number]) -> float | None:
    if not pnls:
        return None
    return sum(1 for p in pnls if p > 0) / len(pnls)


def profit_factor(pnls: Sequence[Number]) -> float | None:
    gross_profit = sum((float(p) for p in pnls if p > 0), 0.0)
    gross_loss = -sum((float(p) for p in pnls if p < 0), 0.0)
    if gross_loss == 0:
        return None
    return gross_profit / gross_loss


def expectancy(pnls: Sequence[Decimal]) -> Decimal | None:
    if not pnls:
        return None
    return sum(pnls, Decimal(0)) / len(pnls)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def sharpe(returns: Sequence[float], periods_per_year: float = 365.0, risk_free: float = 0.0) -> float | None:
    if len(returns) < 2:
        return None
    excess = [r - risk_free for r in returns]
    mean = _mean(excess)
    variance = sum((r - mean) ** 2 for r in excess) / (len(excess) - 1)
    if variance <= 0:
        return None
    return mean / math.sqrt(variance) * math.sqrt(periods_per_year)


def sortino(returns: Sequence[float], periods_per_year: float = 365.0, target: float = 0.0) -> float | None:
    if len(returns) < 2:
        return None
    downside = math.sqrt(sum(min(r - target, 0.0) ** 2 for r in returns) / len(returns))
    if downside == 0:
        return None
    return (_mean(returns) - target) / downside * math.sqrt(periods_per_year)


def max_drawdown(equity: Sequence[Number]) -> tuple[float | None, float]:
    """(largest fall as a fraction of the running peak or None if the peak is ≤ 0, largest absolute fall)."""
    peak: float | None = None
    worst_abs = 0.0
    worst_frac: float | None = None
    for value in equity:
        v = float(value)
        if peak is None or v > peak:
            peak = v
            continue
        fall = peak - v
        if fall > worst_abs:
            worst_abs = fall
        if peak > 0:
            frac = fall / peak
            worst_frac = frac if worst_frac is None or frac > worst_frac else worst_frac
    if worst_frac is None and peak is not None and peak > 0:
        worst_frac = 0.0
    return worst_frac, worst_abs


def daily_returns(points: Sequence[tuple[int, Number]], start_equity: Number | None = None) -> list[float]:
    """Simple returns between the last equity of consecutive UTC days present in ``points``.

    ``start_equity`` (equity before the first point) makes the first day's change count too.
    """
    closes: dict[int, float] = {}
    for time_ms, equity in points:
        closes[time_ms // DAY_MS] = float(equity)
    series = [closes[day] for day in sorted(closes)]
    if start_equity is not None:
        series.insert(0, float(start_equity))
    return [(b - a) / a for a, b in itertools.pairwise(series) if a > 0]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); ``q`` in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def slippage_bps(side_sign: int, expected: Decimal, actual: Decimal) -> float:
    """Adverse price move in basis points: > 0 when a buy paid more / a sell got less than expected."""
    if expected <= 0:
        raise ValueError("expected price must be positive")
    return float((actual - expected) / expected * side_sign * 10_000)
