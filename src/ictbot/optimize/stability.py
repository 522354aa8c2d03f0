"""How much the chosen parameters move from fold to fold, and the out-of-sample equity stitched
across folds. Pure functions over plain numbers.

Stability of a numeric parameter is ``1 - spread / width``: the standard deviation of the per-fold
choices relative to the searched range (1: every fold chose the same value; near 0: the choices
span the range). Of a choice parameter it is the share of folds that picked the most common value.
A parameter that wanders across folds is fitted to noise, whatever its in-sample score.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ictbot.optimize.space import Choice, Dimension


def parameter_stability(space: Sequence[Dimension], chosen: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per parameter: the value each fold chose and a stability score in [0, 1] (None: < 2 folds)."""
    result: dict[str, Any] = {}
    for dimension in space:
        values = [c[dimension.name] for c in chosen if dimension.name in c]
        result[dimension.name] = {"per_fold": values, "stability": _stability(dimension, values)}
    return result


def _stability(dimension: Dimension, values: Sequence[Any]) -> float | None:
    if len(values) < 2:
        return None
    if isinstance(dimension, Choice):
        counts = Counter(json.dumps(v, sort_keys=True) for v in values)
        return round(counts.most_common(1)[0][1] / len(values), 6)
    width = dimension.high - dimension.low
    spread = statistics.pstdev(float(v) for v in values)
    # The largest population spread of values inside [low, high] is width / 2 (half at each end).
    return round(max(0.0, 1.0 - spread / (width / 2)), 6)


def stitch_equity(segments: Sequence[tuple[Sequence[int], Sequence[float], float]],
                  initial: float) -> tuple[list[int], list[float]]:
    """Chain each fold's out-of-sample equity curve (times, equity, the cash it started with) onto
    the previous one's end by its returns, as if one account had traded the folds one after another
    (each fold's backtest starts afresh with its own cash)."""
    times: list[int] = []
    equity: list[float] = []
    level = initial
    for seg_times, seg_equity, start_cash in segments:
        if not seg_equity or start_cash <= 0:
            continue
        times.extend(int(t) for t in seg_times)
        equity.extend(level * float(v) / start_cash for v in seg_equity)
        level = equity[-1]
    return times, equity
