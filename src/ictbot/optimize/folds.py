"""Walk-forward folds: consecutive in-sample (fit) and out-of-sample (score) windows.

The candles are cut by count: the last ``oos_fraction`` of them form ``folds`` equal
out-of-sample blocks in time order; each fold fits on the candles just before its block, either
from the first candle (``anchored``, the fit window grows) or over a fixed length (``rolling``,
the length of the first fit window). A fit window always ends where its out-of-sample block starts,
so no candle at or after that time can reach the fit (``slice_window`` cuts the data itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.backtest.data import MarketData

MIN_WINDOW_CANDLES = 50  # a window shorter than this cannot say anything about a strategy


class Walk(StrEnum):
    ANCHORED = "anchored"
    ROLLING = "rolling"


@dataclass(frozen=True, order=True)
class Window:
    """Candles with ``start_ms <= open_time < end_ms``."""

    start_ms: int
    end_ms: int

    def to_json(self) -> dict[str, int]:
        return {"start_ms": self.start_ms, "end_ms": self.end_ms}


@dataclass(frozen=True)
class Fold:
    number: int  # 1-based
    in_sample: Window
    out_of_sample: Window

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "in_sample": self.in_sample.to_json(),
                "out_of_sample": self.out_of_sample.to_json()}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Fold:
        return cls(row["number"], Window(**row["in_sample"]), Window(**row["out_of_sample"]))


def walk_forward(open_times: npt.NDArray[np.int64], bar_ms: int, *, folds: int, walk: Walk,
                 oos_fraction: float) -> tuple[Fold, ...]:
    """The folds over candles opening at ``open_times`` (sorted, one timeframe of ``bar_ms``)."""
    if folds < 1:
        raise ValueError(f"--folds must be at least 1, got {folds}")
    if not 0 < oos_fraction < 1:
        raise ValueError(f"--oos-fraction must be between 0 and 1 (exclusive), got {oos_fraction}")
    count = int(open_times.size)
    oos_len = int(count * oos_fraction) // folds
    first_fit = count - folds * oos_len
    if oos_len < MIN_WINDOW_CANDLES or first_fit < MIN_WINDOW_CANDLES:
        raise ValueError(f"--folds {folds} with --oos-fraction {oos_fraction}: {count} candles give windows of "
                         f"{min(oos_len, first_fit)} candles; each needs at least {MIN_WINDOW_CANDLES} "
                         "(fewer folds, or more data)")

    def time_at(index: int) -> int:
        return int(open_times[index]) if index < count else int(open_times[-1]) + bar_ms

    result = []
    for k in range(folds):
        oos_start = first_fit + k * oos_len
        fit_start = 0 if walk is Walk.ANCHORED else oos_start - first_fit
        result.append(Fold(k + 1, Window(time_at(fit_start), time_at(oos_start)),
                           Window(time_at(oos_start), time_at(oos_start + oos_len))))
    return tuple(result)


def slice_window(datasets: Sequence[MarketData], window: Window) -> list[MarketData]:
    """Each symbol's candles (and finer detail candles) inside ``window`` only."""
    sliced = []
    for data in datasets:
        detail = None if data.detail is None else data.detail.between(window.start_ms, window.end_ms)
        sliced.append(replace(data, frame=data.frame.between(window.start_ms, window.end_ms), detail=detail,
                              extra={}))
    return sliced
