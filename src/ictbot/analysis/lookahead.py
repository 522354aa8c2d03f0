"""Lookahead analysis: does any decision depend on candles that closed after it?

The strategy runs on the full data and on copies cut after N candles drawn with a seed (half of them
right after a signal of the full run, where a peek at the next candles shows first; the rest
anywhere). A causal strategy decides identically in both up to the cut: every signal decided at or
before the cut, and every trade entered before it (its exit too, unless the copy closed it only
because its data ended), must match field by field. Anything else is a finding.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ictbot.analysis.compare import Difference, compare_signals, compare_trades
from ictbot.analysis.runs import Progress, Run, run_slice
from ictbot.backtest.data import MarketData
from ictbot.backtest.run import BacktestSpec
from ictbot.domain.timeframe import ms_to_datetime


@dataclass(frozen=True)
class CutCheck:
    symbol: str
    candles: int  # the copy holds the first ``candles`` candles
    end_time: int  # close of its last candle
    signals_compared: int
    trades_compared: int
    differences: tuple[Difference, ...]

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "candles": self.candles, "end": ms_to_datetime(self.end_time).isoformat(),
                "signals_compared": self.signals_compared, "trades_compared": self.trades_compared,
                "differences": len(self.differences)}


@dataclass(frozen=True)
class LookaheadReport:
    strategy: str
    seed: int
    cuts: tuple[CutCheck, ...]
    full_signals: dict[str, int] = field(default_factory=dict)  # per symbol
    full_trades: dict[str, int] = field(default_factory=dict)

    @property
    def differences(self) -> list[Difference]:
        return [d for cut in self.cuts for d in cut.differences]

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {"schema": "ictbot.analyze.lookahead/1", "strategy": self.strategy, "seed": self.seed,
                "ok": self.ok, "full_run": {"signals": self.full_signals, "trades": self.full_trades},
                "cuts": [c.to_json() for c in self.cuts], "differences": [d.to_json() for d in self.differences]}


def choose_cuts(n: int, signal_indexes: Sequence[int], count: int, seed: int) -> list[int]:
    """``count`` copy lengths in [2, n): half right after a signal's candle, the rest uniform."""
    if n < 3 or count < 1:
        return []
    rng = random.Random(seed)
    after_signal = sorted({i + 1 for i in signal_indexes if 2 <= i + 1 < n})
    chosen = set(rng.sample(after_signal, min(len(after_signal), (count + 1) // 2)))
    others = [c for c in range(2, n) if c not in chosen]
    chosen.update(rng.sample(others, min(len(others), count - len(chosen))))
    return sorted(chosen)


def check_cut(spec: BacktestSpec, full: Run, data: MarketData, cut: int) -> CutCheck:
    """The run on the first ``cut`` candles against the full run, up to the cut."""
    part = run_slice(spec, data, 0, cut)
    end_time = int(data.frame.open_time[cut - 1]) + data.timeframe.ms
    label = f"cut after {ms_to_datetime(end_time).isoformat()}"
    reference = [s for s in full.signals if s.time <= end_time]
    variant = [s for s in part.signals if s.time <= end_time]
    found = compare_signals(reference, variant, label=label)
    entered = [t for t in full.result.trades if t.entry_index < cut]
    found += compare_trades(entered, part.result.trades, label=label, counts=lambda t: t.entry_index < cut)
    return CutCheck(data.symbol, cut, end_time, len(reference), len(entered), tuple(found))


def lookahead_analysis(spec: BacktestSpec, datasets: Sequence[MarketData], *, cuts: int = 10, seed: int = 0,
                       progress: Progress | None = None) -> LookaheadReport:
    """Run ``spec`` on each symbol's full data and on ``cuts`` truncated copies (see the module doc)."""
    if cuts < 1:
        raise ValueError("--cuts must be at least 1")
    checks: list[CutCheck] = []
    signals: dict[str, int] = {}
    trades: dict[str, int] = {}
    total = len(datasets) * (cuts + 1)
    done = 0
    for data in datasets:
        if progress is not None:
            progress(f"{data.symbol} full run", done, total)
        full = run_slice(spec, data, 0, len(data))
        done += 1
        signals[data.symbol], trades[data.symbol] = len(full.signals), len(full.result.trades)
        close_times = data.frame.open_time + data.timeframe.ms
        indexes = close_times.searchsorted([s.time for s in full.signals]).tolist()
        for cut in choose_cuts(len(data), indexes, cuts, seed):
            if progress is not None:
                progress(f"{data.symbol} cut at candle {cut:,}", done, total)
            checks.append(check_cut(spec, full, data, cut))
            done += 1
    if progress is not None:
        progress("done", total, total)
    return LookaheadReport(spec.strategy, seed, tuple(checks), signals, trades)
