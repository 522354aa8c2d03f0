"""Data quality of a candle series: gaps, zero-volume flat bars, duplicate and out-of-order rows.

A missing candle (an exchange halt, a hole in a dump) and the flat zero-volume bars around it pass
every per-row check, yet an FVG built across the outage is not a market event. This module only
measures; the callers (``backtest``, ``indicators``, ``download --from-file``) report it and
``--on-gap fail`` refuses to go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.timeframe import Timeframe, ms_to_datetime

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

FIRST_FEW = 5


@dataclass(frozen=True, slots=True)
class Gap:
    """``missing`` candles absent from ``start`` (open time of the first missing one) to ``end``
    (exclusive: the open time of the next candle present), both ms UTC."""

    start: int
    end: int
    missing: int

    def to_json(self) -> dict[str, Any]:
        return {"start": _iso(self.start), "end": _iso(self.end), "missing": self.missing}


@dataclass(frozen=True, slots=True)
class DataQuality:
    timeframe: Timeframe
    candles: int
    gaps: tuple[Gap, ...]
    zero_volume: int
    zero_volume_first: tuple[int, ...]  # open times of the first few zero-volume flat bars
    duplicates: int
    out_of_order: int

    @property
    def missing(self) -> int:
        return sum(gap.missing for gap in self.gaps)

    @property
    def clean(self) -> bool:
        return not (self.gaps or self.zero_volume or self.duplicates or self.out_of_order)

    def to_json(self) -> dict[str, Any]:
        return {
            "timeframe": self.timeframe.value, "candles": self.candles,
            "gaps": [gap.to_json() for gap in self.gaps], "missing_candles": self.missing,
            "zero_volume": self.zero_volume, "zero_volume_first": [_iso(t) for t in self.zero_volume_first],
            "duplicates": self.duplicates, "out_of_order": self.out_of_order,
        }

    def describe(self, first: int = FIRST_FEW) -> list[str]:
        """Short human lines (empty when clean): counts, then the first few gaps with their times."""
        if self.clean:
            return []
        lines = [f"{len(self.gaps)} gap(s), {self.missing} missing {self.timeframe.value} candle(s); "
                 f"{self.zero_volume} zero-volume flat bar(s); {self.duplicates} duplicate(s); "
                 f"{self.out_of_order} out of order"]
        lines += [f"  gap {_iso(g.start)} → {_iso(g.end)}: {g.missing} missing" for g in self.gaps[:first]]
        if len(self.gaps) > first:
            lines.append(f"  … and {len(self.gaps) - first} more gap(s)")
        if self.zero_volume_first:
            lines.append("  zero volume at " + ", ".join(_iso(t) for t in self.zero_volume_first[:first]))
        return lines


def assess(
    open_time: I64, open_: F64, high: F64, low: F64, close: F64, volume: F64, timeframe: Timeframe
) -> DataQuality:
    """Measure one series at ``timeframe`` (rows in file order; nothing is changed)."""
    times = np.asarray(open_time, dtype=np.int64)
    steps = np.diff(times)
    out_of_order = int(np.count_nonzero(steps < 0))
    # a strictly increasing series (the usual case) is its own sorted unique set: no sort needed
    unique = times if not bool(np.any(steps <= 0)) else np.unique(times)
    flat = (high == low) & (open_ == close) & (open_ == high)
    zero = np.nonzero((volume == 0) & flat)[0]
    return DataQuality(
        timeframe=timeframe, candles=int(times.size), gaps=find_gaps(unique, timeframe),
        zero_volume=int(zero.size), zero_volume_first=tuple(int(times[k]) for k in zero[:FIRST_FEW]),
        duplicates=int(times.size - unique.size), out_of_order=out_of_order,
    )


def find_gaps(sorted_times: I64, timeframe: Timeframe) -> tuple[Gap, ...]:
    """Holes between consecutive (sorted, unique) open times wider than one ``timeframe``."""
    if sorted_times.size < 2:
        return ()
    steps = np.diff(sorted_times)
    holes = np.nonzero(steps > timeframe.ms)[0]
    return tuple(
        Gap(int(sorted_times[k]) + timeframe.ms, int(sorted_times[k + 1]),
            max(1, int((sorted_times[k + 1] - sorted_times[k]) // timeframe.ms) - 1))
        for k in holes.tolist()
    )


def _iso(ms: int) -> str:
    return ms_to_datetime(ms).isoformat()
