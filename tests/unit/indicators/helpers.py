"""Tiny builders for hand-worked candle sequences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.events import Event
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.stream import TimeframeEngine

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a Monday
Row = tuple[float, float, float, float]  # open, high, low, close

Arrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64],
               npt.NDArray[np.float64], npt.NDArray[np.float64]]


def times(n: int, tf: str = "5m", start: int = T0, skip: Sequence[int] = ()) -> list[int]:
    """Open times of ``n`` candles; indexes in ``skip`` are left out of the clock (data gaps)."""
    step = Timeframe(tf).ms
    out: list[int] = []
    slot = 0
    while len(out) < n:
        if slot not in skip:
            out.append(start + slot * step)
        slot += 1
    return out


def arrays(rows: Sequence[Row], tf: str = "5m", start: int = T0, skip: Sequence[int] = ()) -> Arrays:
    t = np.array(times(len(rows), tf, start, skip), dtype=np.int64)
    data = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return t, data[:, 0].copy(), data[:, 1].copy(), data[:, 2].copy(), data[:, 3].copy()


def run(rows: Sequence[Row], params: IndicatorParams | None = None, tf: str = "5m", start: int = T0,
        skip: Sequence[int] = ()) -> list[Event]:
    engine = TimeframeEngine(tf, params)
    out: list[Event] = []
    for t, row in zip(times(len(rows), tf, start, skip), rows, strict=True):
        out.extend(engine.step(t, *row))
    return out


def hl(highs: Sequence[float], lows: Sequence[float]) -> list[Row]:
    """Candles defined by high/low only (open = low, close = high: up-close bodies)."""
    return [(lo, h, lo, h) for h, lo in zip(highs, lows, strict=True)]


def only(events: Sequence[Event], *kinds: str) -> list[Event]:
    return [e for e in events if e.kind in kinds]


def summary(events: Sequence[Event]) -> list[tuple[int, str, int]]:
    """(confirm_index, kind, direction) triples, in log order."""
    return [(e.confirm_index, e.kind, e.direction) for e in events]
