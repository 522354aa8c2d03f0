"""One trial's backtest: the spec ``ictbot backtest`` would build, with the trial's parameters
applied as ``--sweep`` applies them (``backtest.sweep.apply_combination``: strategy params, or
``risk.<field>``), run by ``backtest.run.run_backtest`` on the candles of one window only.

The window's candles are cut here (``folds.slice_window``) before the backtest sees them, so a fit
cannot read past its window whatever the strategy does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ictbot.backtest.data import MarketData
from ictbot.backtest.run import BacktestOutcome, BacktestSpec, build_strategy, resolve, run_backtest
from ictbot.backtest.sweep import RISK_PREFIX, apply_combination
from ictbot.domain.errors import IctbotError
from ictbot.optimize.folds import Window, slice_window

Backtest = Callable[[BacktestSpec, Sequence[MarketData]], BacktestOutcome]
CURVE_POINTS = 400  # equity points kept per out-of-sample window (the study stores them)


def resolve_strategy(name: str) -> str:
    """``--strategy``: a built-in or reference kind, or a user file ``path.py:Class`` — checked here once
    (one-line error) and passed on as the spec string every trial's backtest resolves the same way."""
    try:
        resolve(name)
    except IctbotError as exc:
        raise ValueError(f"--strategy: {exc}") from exc
    return name


def check_space(spec: BacktestSpec, names: Sequence[str]) -> None:
    """Every searched name is a parameter of the strategy (or ``risk.<field>``): a misspelt name would
    otherwise make every trial fail validation and the search come back empty."""
    model = getattr(type(build_strategy(spec)), "config_model", None)
    if model is None:  # a strategy without a pydantic model: its own validation judges each trial
        return
    fields = set(model.model_fields)
    for name in names:
        if not name.startswith(RISK_PREFIX) and name not in fields:
            raise ValueError(f"--space {name}: {spec.strategy} has no parameter {name!r} "
                             f"(its parameters: {', '.join(sorted(fields))})")


def backtest_window(spec: BacktestSpec, datasets: Sequence[MarketData]) -> BacktestOutcome:
    """The backtest of ``ictbot backtest`` (same engine, risk gate, fills) on pre-cut candles."""
    return run_backtest(spec, loaded=datasets)


@dataclass(frozen=True)
class Evaluator:
    """Runs parameter sets on windows of the loaded candles."""

    spec: BacktestSpec
    datasets: tuple[MarketData, ...]
    backtest: Backtest = backtest_window

    def run(self, params: Mapping[str, Any], window: Window) -> BacktestOutcome:
        return self.backtest(apply_combination(self.spec, params), slice_window(self.datasets, window))


def equity_points(outcome: BacktestOutcome, points: int = CURVE_POINTS) -> dict[str, Any]:
    """The combined equity curve thinned to about ``points`` samples (first and last kept)."""
    times, equity = outcome.combined_equity()
    if times.size > points:
        index = np.unique(np.linspace(0, times.size - 1, points).astype(np.int64))
        times, equity = times[index], equity[index]
    initial = float(sum(float(r.initial_cash) for r in outcome.results))
    return {"times": [int(t) for t in times.tolist()], "equity": [round(float(v), 6) for v in equity.tolist()],
            "initial_cash": initial}
