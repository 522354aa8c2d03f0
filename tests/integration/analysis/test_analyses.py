"""Lookahead and recursive analysis on real candles: faulty strategies are caught where their fault
is, and nowhere else; correct ones (the built-ins, an honest user file) pass."""

from __future__ import annotations

import pytest

from ictbot.analysis import lookahead_analysis, recursive_analysis
from tests.integration.analysis.support import candles, cheater, spec

pytestmark = pytest.mark.slow  # about 20 s: several backtests per analysis on real candles
FIVE_MINUTES = 300_000
AHEAD, AVERAGE, DECLARED = 3, 200, 10  # see user_strategies/cheaters.py


def test_a_strategy_that_peeks_ahead_is_caught_at_its_cuts() -> None:
    data = candles(0, 800)
    report = lookahead_analysis(cheater("Peeking"), [data], cuts=4, seed=1)
    assert not report.ok
    ends = [cut.end_time for cut in report.cuts if cut.differences]
    for difference in report.differences:
        # only the decisions whose look ahead crossed the cut can differ
        assert any(0 <= end - difference.time < AHEAD * FIVE_MINUTES for end in ends), difference.describe()
    assert any(d.kind == "signal" and d.only_in == "reference" for d in report.differences)
    assert recursive_analysis(cheater("Peeking"), [data], offsets=[250]).ok  # it needs no history


def test_a_strategy_that_needs_more_history_than_declared_is_caught_inside_the_gap() -> None:
    data = candles(0, 800)
    report = recursive_analysis(cheater("Overreaching"), [data], offsets=[250])
    assert report.warmup_candles == DECLARED and not report.ok
    first = int(data.frame.open_time[250])
    for difference in report.differences:  # between its declared and its real warm-up
        assert first + DECLARED * FIVE_MINUTES <= difference.time <= first + AVERAGE * FIVE_MINUTES
    assert lookahead_analysis(cheater("Overreaching"), [data], cuts=4, seed=1).ok  # it is causal
    honest = recursive_analysis(cheater("Honest"), [data], offsets=[250])  # the same, declaring 200
    assert honest.ok and honest.warmup_candles == AVERAGE and honest.offsets[0].signals_compared > 0


def test_a_strategy_with_both_faults_is_caught_by_both() -> None:
    data = candles(0, 1200)  # both faults must meet: a crossing right before a rise
    assert not lookahead_analysis(cheater("Cheater"), [data], cuts=4, seed=1).ok
    assert not recursive_analysis(cheater("Cheater"), [data], offsets=[300]).ok


@pytest.mark.parametrize("strategy", ["strategy_a", "strategy_b", "s1_ema_cross", "s2_fvg"])
def test_builtin_strategies_pass_lookahead(strategy: str) -> None:
    report = lookahead_analysis(spec(strategy), [candles(1000, 4500)], cuts=3, seed=2)
    assert report.ok, [d.describe() for d in report.differences[:5]]
    assert sum(cut.signals_compared for cut in report.cuts) > 0


@pytest.mark.parametrize("strategy", ["strategy_a", "strategy_b", "s1_ema_cross", "s2_fvg"])
def test_builtin_strategies_pass_recursive(strategy: str) -> None:
    """On one month. strategy_a fails on longer data: its targets may be liquidity levels older than
    its warm-up (docs/strategies.md#what-the-analyses-found)."""
    data = candles(0, 8928)
    report = recursive_analysis(spec(strategy), [data], offsets=[2000])
    assert report.ok, [d.describe() for d in report.differences[:5]]
    assert report.offsets[0].signals_compared > 0


@pytest.mark.parametrize("strategy", ["strategy_a", "strategy_b"])
def test_a_copy_shorter_than_one_higher_timeframe_candle_backtests(strategy: str) -> None:
    """Cuts may leave a few candles: no 1h/4h candle closed, no structure yet (the replayed calendar
    used to fail on the empty trend series)."""
    from ictbot.analysis.runs import run_slice

    for stop in (2, 5, 30):
        run = run_slice(spec(strategy), candles(1000, 1100), 0, stop)
        assert run.result.candles == stop and run.result.trades == [] and run.signals == []
