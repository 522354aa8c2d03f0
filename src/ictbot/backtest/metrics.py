"""Summary statistics of a backtest (pure functions over trades and the equity curve).

Conventions: returns in percent; Sharpe and Sortino from daily (UTC) equity returns, annualised
with √365 (crypto trades every day), risk-free rate 0; CAGR over the data's calendar span;
drawdown on the per-candle mark-to-market equity; exposure = share of candles with a position
held at their close or traded during them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.backtest.results import SymbolResult, Trade

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_DAY_MS = 86_400_000
_YEAR_DAYS = 365.25


@dataclass(frozen=True, slots=True)
class Summary:
    trades: int
    wins: int
    losses: int
    win_rate_pct: float
    profit_factor: float | None
    expectancy: float
    expectancy_pct: float
    gross_profit: float
    gross_loss: float
    fees: float
    gross_pnl: float  # sum of the trades' P&L before fees
    net_pnl: float  # after fees: gross_pnl - fees
    initial_equity: float
    final_equity: float
    total_return_pct: float
    cagr_pct: float
    sharpe: float | None
    sortino: float | None
    max_drawdown_pct: float
    max_drawdown_duration_days: float
    exposure_pct: float
    start: int
    end: int
    candles: int

    def to_json(self) -> dict[str, Any]:
        return {key: _finite(value) for key, value in asdict(self).items()}


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 10) if math.isfinite(value) else None
    return value


def daily_returns(times: I64, equity: F64) -> F64:
    """Returns between consecutive UTC days' last equity values (first day vs the start)."""
    if equity.size == 0:
        return np.empty(0)
    days = times // _DAY_MS
    last_of_day = np.flatnonzero(np.r_[days[1:] != days[:-1], True])
    closes = np.r_[equity[0], equity[last_of_day]]
    result: F64 = np.diff(closes) / closes[:-1]
    return result


def drawdown(equity: F64) -> F64:
    peak = np.maximum.accumulate(equity)
    result: F64 = equity / peak - 1.0
    return result


def max_drawdown_duration(times: I64, equity: F64, timeframe_ms: int) -> int:
    """Longest time (ms) spent below a previous equity peak (until recovery or the end of data)."""
    if equity.size == 0:
        return 0
    peak = np.maximum.accumulate(equity)
    at_peak = equity >= peak
    peak_times = times[at_peak]
    # time each underwater stretch lasted: from the last peak to the next peak (or the end)
    ends = np.r_[peak_times[1:], times[-1] + timeframe_ms]
    return int(np.max(ends - peak_times)) - timeframe_ms if peak_times.size else 0


def exposure(trades: Sequence[Trade], candles: int) -> float:
    if candles == 0:
        return 0.0
    held = np.zeros(candles + 1, dtype=np.int64)
    for trade in trades:
        held[trade.entry_index] += 1
        held[trade.exit_index + 1] -= 1
    return float(np.count_nonzero(np.cumsum(held)[:candles]) / candles * 100)


def summarise(
    trades: Sequence[Trade], times: I64, equity: F64, initial: Decimal, timeframe_ms: int
) -> Summary:
    pnls = np.array([float(t.pnl) for t in trades], dtype=np.float64)
    returns = np.array([t.return_pct for t in trades], dtype=np.float64)
    wins = int(np.count_nonzero(pnls > 0))
    gross_profit = float(pnls[pnls > 0].sum()) if pnls.size else 0.0
    gross_loss = float(-pnls[pnls < 0].sum()) if pnls.size else 0.0
    start_equity = float(initial)
    net = sum((t.pnl for t in trades), Decimal(0))
    fees = sum((t.fees for t in trades), Decimal(0))
    final = float(initial + net) if equity.size == 0 else float(equity[-1])
    span_days = (int(times[-1]) + timeframe_ms - int(times[0])) / _DAY_MS if times.size else 0.0
    growth = final / start_equity if start_equity else 0.0
    cagr = (growth ** (_YEAR_DAYS / span_days) - 1.0) * 100 if span_days > 0 and growth > 0 else -100.0
    daily = daily_returns(times, equity)
    sharpe = sortino = None
    if daily.size > 1:
        std = float(np.std(daily, ddof=1))
        mean = float(np.mean(daily))
        sharpe = mean / std * math.sqrt(365) if std > 0 else None
        downside = float(np.sqrt(np.mean(np.minimum(daily, 0.0) ** 2)))
        sortino = mean / downside * math.sqrt(365) if downside > 0 else None
    dd = drawdown(equity) if equity.size else np.zeros(1)
    return Summary(
        trades=len(trades), wins=wins, losses=int(np.count_nonzero(pnls < 0)),
        win_rate_pct=wins / len(trades) * 100 if trades else 0.0,
        profit_factor=gross_profit / gross_loss if gross_loss > 0 else None,
        expectancy=float(pnls.mean()) if pnls.size else 0.0,
        expectancy_pct=float(returns.mean()) if returns.size else 0.0,
        gross_profit=gross_profit, gross_loss=gross_loss, fees=float(fees),
        gross_pnl=float(net + fees), net_pnl=float(net),
        initial_equity=start_equity, final_equity=final,
        total_return_pct=(final / start_equity - 1.0) * 100 if start_equity else 0.0,
        cagr_pct=cagr, sharpe=sharpe, sortino=sortino, max_drawdown_pct=float(dd.min()) * 100,
        max_drawdown_duration_days=max_drawdown_duration(times, equity, timeframe_ms) / _DAY_MS,
        exposure_pct=exposure(trades, int(times.size)),
        start=int(times[0]) if times.size else 0, end=int(times[-1]) + timeframe_ms if times.size else 0,
        candles=int(times.size),
    )


def monthly_returns(times: I64, equity: F64, initial: float) -> list[tuple[int, int, float]]:
    """(year, month, return %) from each UTC month's last equity vs the previous month's."""
    if equity.size == 0:
        return []
    months = times.astype("datetime64[ms]").astype("datetime64[M]")
    last = np.flatnonzero(np.r_[months[1:] != months[:-1], True])
    previous = initial
    out: list[tuple[int, int, float]] = []
    for index in last.tolist():
        month = months[index].astype(object)
        value = float(equity[index])
        out.append((month.year, month.month, (value / previous - 1.0) * 100 if previous else 0.0))
        previous = value
    return out


def buy_and_hold_equity(open_: F64, close: F64, initial: Decimal) -> F64:
    """Equity per candle of putting ``initial`` into the asset at the first candle's open and holding
    (no fees): the benchmark the strategy's equity curve is drawn against."""
    if open_.size == 0 or open_[0] <= 0:
        return np.full(close.size, float(initial))
    return np.asarray(float(initial) * close / open_[0], dtype=np.float64)


def buy_and_hold_return_pct(open_: F64, close: F64) -> float | None:
    """Return in percent of buying at the first candle's open and selling at the last close (no fees)."""
    if open_.size == 0 or open_[0] <= 0:
        return None
    return round(float(close[-1] / open_[0] - 1.0) * 100.0, 6)


def buy_and_hold_total_pct(results: Sequence[SymbolResult]) -> float | None:
    """Buy and hold of every symbol with its own cash (as the strategy gets), in percent of the total."""
    initial = sum(float(r.initial_cash) for r in results)
    if not results or initial <= 0:
        return None
    final = sum(float(r.initial_cash) * (1 + (buy_and_hold_return_pct(r.open, r.close) or 0.0) / 100)
                for r in results)
    return round((final / initial - 1) * 100, 6)
