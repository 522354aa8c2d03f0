"""Batch computation of the whole suite of one timeframe: the fold of ``TimeframeEngine.step``.

Events come out in the canonical log order of ict-spec §0; per-candle values (ATR, dealing range,
previous-period levels, retracement) are returned as float64 columns aligned with the candles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.events import Event
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.stream import TimeframeEngine

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SECTION_KINDS: dict[str, frozenset[str]] = {
    "swings": frozenset({"swing_high", "swing_low", "swing_superseded"}),
    "structure": frozenset({"bos", "choch"}),
    "fvg": frozenset({"fvg", "fvg_touched", "fvg_ce_touched", "fvg_filled", "fvg_invalidated", "fvg_expired",
                      "fvg_evicted", "fvg_extended", "ifvg", "ifvg_touched", "ifvg_invalidated", "ifvg_expired",
                      "ifvg_evicted"}),
    "order_blocks": frozenset({"order_block", "ob_touched", "ob_mt_violated", "ob_invalidated", "ob_evicted",
                               "breaker", "breaker_touched", "breaker_invalidated", "breaker_evicted"}),
    "liquidity": frozenset({"liquidity_pool", "liquidity_pool_extended", "liquidity_taken", "sweep", "run"}),
    "premium_discount": frozenset({"impulse_leg", "ote_entered", "ote_exceeded", "leg_invalidated"}),
    "previous_period": frozenset({"previous_day", "previous_week", "previous_month"}),
    "sessions": frozenset({"session_closed"}),
    "displacement": frozenset({"displacement", "displacement_with_fvg", "displacement_leg"}),
}
ALL_KINDS = frozenset().union(*SECTION_KINDS.values())

SERIES = ("atr", "range_top", "range_bottom", "range_pos", "retracement", "pdh", "pdl", "pwh", "pwl", "pmh", "pml",
          "day_open", "pdh_taken", "pdl_taken")


@dataclass
class SuiteResult:
    events: list[Event]
    series: dict[str, F64] = field(default_factory=dict)

    def of(self, section: str) -> list[Event]:
        kinds = SECTION_KINDS[section]
        return [e for e in self.events if e.kind in kinds]


def compute(t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
            params: IndicatorParams | None = None, *, series: bool = False,
            progress: Callable[[int], None] | None = None) -> SuiteResult:
    """Fold the streaming engine over a series. ``progress(k)`` is called every 10 000 candles."""
    engine = TimeframeEngine(timeframe, params)
    events: list[Event] = []
    n = int(t.shape[0])
    cols = {name: np.full(n, np.nan) for name in SERIES} if series else {}
    step = engine.step
    rows = zip(t.tolist(), o.tolist(), h.tolist(), lo.tolist(), c.tolist(), strict=True)
    for i, (ti, oi, hi, li, ci) in enumerate(rows):
        new = step(ti, oi, hi, li, ci)
        if new:
            events.extend(new)
        if series:
            _record(engine, cols, i)
        if progress is not None and i % 10_000 == 9_999:
            progress(i + 1)
    if progress is not None:
        progress(n)
    return SuiteResult(events, cols)


def _record(engine: TimeframeEngine, cols: dict[str, F64], i: int) -> None:
    cols["atr"][i] = engine.atr_value
    pd = engine.premium_discount
    cols["range_top"][i] = pd.top
    cols["range_bottom"][i] = pd.bottom
    cols["retracement"][i] = pd.retracement
    if pd.top > pd.bottom:  # NaN-safe: false while undefined
        cols["range_pos"][i] = (engine.last_close - pd.bottom) / (pd.top - pd.bottom)
    for kind, hi, lo in (("day", "pdh", "pdl"), ("week", "pwh", "pwl"), ("month", "pmh", "pml")):
        high, low, _ = engine.previous.values(kind)
        cols[hi][i] = high
        cols[lo][i] = low
    pdh, pdl, day_open = engine.previous.values("day")
    cols["day_open"][i] = day_open
    current = engine.previous.current["day"]
    if current is not None and pdh == pdh:  # pdh == pdh: defined (not NaN)
        cols["pdh_taken"][i] = float(current.high > pdh)
        cols["pdl_taken"][i] = float(current.low < pdl)


def events_for(section: str, t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
               params: IndicatorParams | None = None) -> list[Event]:
    """Events of one indicator section (``swings``, ``structure``, ``fvg``, ...) over a series."""
    return compute(t, o, h, lo, c, timeframe, params).of(section)
