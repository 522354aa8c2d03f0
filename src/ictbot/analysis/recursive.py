"""Recursive analysis: does the strategy need more history than its declared warm-up?

A strategy declares ``warmup_candles``: the history after which its decisions no longer depend on
where the data started. The check runs it from the first candle (the reference) and from later
start offsets; a run started at offset ``o`` must decide like the reference from candle
``o + warmup`` on (prices to ``PRICE_TOLERANCE``, relative). Only signals are compared (trade sizes
follow each run's own equity). A signal only one run has is not counted while either run held a
position then: holding suppresses signals, and the runs' earlier trades may differ without any fault
of the indicators. The circuit breakers
are off in these runs for the same reason: a trip follows each run's own P&L and stops its strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ictbot.analysis.compare import Difference, compare_signals
from ictbot.analysis.runs import Progress, Run, run_slice
from ictbot.backtest.data import MarketData
from ictbot.backtest.run import BacktestSpec, build_strategy
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import ms_to_datetime
from ictbot.strategies.base import declared_warmup

DEFAULT_STARTS = 3
PRICE_TOLERANCE = 1e-9
"""Relative: a recursive average (ATR, EMA) forgets its first value exponentially, never exactly, so
prices derived from it may differ in the last float digits long after the warm-up."""


@dataclass(frozen=True)
class OffsetCheck:
    symbol: str
    offset: int  # the run started at this candle of the data
    compared_from: int  # close time of the first candle whose decisions are compared
    signals_compared: int
    skipped_while_holding: int  # one-sided signals not counted: one of the runs held a position
    differences: tuple[Difference, ...]

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "offset": self.offset,
                "compared_from": ms_to_datetime(self.compared_from).isoformat(),
                "signals_compared": self.signals_compared, "skipped_while_holding": self.skipped_while_holding,
                "differences": len(self.differences)}


@dataclass(frozen=True)
class RecursiveReport:
    strategy: str
    warmup_candles: int
    offsets: tuple[OffsetCheck, ...]
    reference_signals: dict[str, int] = field(default_factory=dict)

    @property
    def differences(self) -> list[Difference]:
        return [d for check in self.offsets for d in check.differences]

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {"schema": "ictbot.analyze.recursive/1", "strategy": self.strategy,
                "warmup_candles": self.warmup_candles, "ok": self.ok,
                "reference_run": {"signals": self.reference_signals},
                "offsets": [o.to_json() for o in self.offsets],
                "differences": [d.to_json() for d in self.differences]}


def default_offsets(n: int, warmup: int, starts: int = DEFAULT_STARTS) -> list[int]:
    """``starts`` offsets spread evenly over the candles that leave a warm-up and something to compare."""
    room = n - warmup - 1
    if room < 1:
        return []
    return sorted({max(1, round(room * j / (starts + 1))) for j in range(1, starts + 1)})


def check_offset(spec: BacktestSpec, reference: Run, data: MarketData, offset: int, warmup: int) -> OffsetCheck:
    later = run_slice(spec, data, offset, len(data))
    first = offset + warmup
    compared_from = int(data.frame.open_time[first]) + data.timeframe.ms
    label = f"start +{offset:,} candles ({ms_to_datetime(int(data.frame.open_time[offset])).isoformat()})"
    held = {"reference": reference.held_at(), "variant": later.held_at()}
    skipped = 0

    def one_sided(signal: Signal, _run: str) -> bool:
        nonlocal skipped
        if signal.time in held["reference"] or signal.time in held["variant"]:
            skipped += 1
            return False
        return True

    def counts(signal: Signal) -> bool:
        return signal.time >= compared_from

    found = compare_signals(reference.signals, later.signals, label=label, counts=counts, one_sided_counts=one_sided,
                             rel_tol=PRICE_TOLERANCE)
    compared = sum(1 for s in reference.signals if counts(s))
    return OffsetCheck(data.symbol, offset, compared_from, compared, skipped, tuple(found))


def recursive_analysis(spec: BacktestSpec, datasets: Sequence[MarketData], *, offsets: Sequence[int] | None = None,
                       warmup: int | None = None, progress: Progress | None = None) -> RecursiveReport:
    """Compare runs started at ``offsets`` (default: three spread over the data) with the run from the
    first candle, from each offset's warm-up on. ``warmup``: overrides the strategy's declaration."""
    spec = replace(spec, circuit_breakers=False)
    declared = declared_warmup(build_strategy(spec)) if warmup is None else warmup
    if declared < 0:
        raise ValueError("--warmup must be >= 0")
    checks: list[OffsetCheck] = []
    counts: dict[str, int] = {}
    plans = [(data, _offsets_for(data, declared, offsets)) for data in datasets]
    total = sum(1 + len(chosen) for _data, chosen in plans)
    done = 0
    for data, chosen in plans:
        if progress is not None:
            progress(f"{data.symbol} from the first candle", done, total)
        reference = run_slice(spec, data, 0, len(data))
        counts[data.symbol] = len(reference.signals)
        done += 1
        for offset in chosen:
            if progress is not None:
                progress(f"{data.symbol} from candle {offset:,}", done, total)
            checks.append(check_offset(spec, reference, data, offset, declared))
            done += 1
    if progress is not None:
        progress("done", total, total)
    return RecursiveReport(spec.strategy, declared, tuple(checks), counts)


def _offsets_for(data: MarketData, warmup: int, asked: Sequence[int] | None) -> list[int]:
    n = len(data)
    if asked is None:
        chosen = default_offsets(n, warmup)
        if not chosen:
            raise ValueError(f"{data.symbol}: {n} candles leave nothing to compare after a warm-up of {warmup} "
                             "candles; give more data")
        return chosen
    for offset in asked:
        if offset < 1 or offset + warmup >= n:
            raise ValueError(f"--offset {offset}: must be at least 1 and leave candles after the warm-up "
                             f"({warmup}) within the {n} candles of {data.symbol}")
    return sorted(set(asked))
