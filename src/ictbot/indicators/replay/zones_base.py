"""Vectorised zone lifecycles for ``replay.zones``: per-zone candles of every state change, and the
first base candle crossing a price (higher-timeframe base tracking, ict-spec §10).

Everything here runs once per timeframe on whole columns; ``ZoneReplay.at`` only slices the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ictbot.indicators.kernels.codes import (
    K_BREAKER,
    K_BREAKER_EVICTED,
    K_BREAKER_INVALIDATED,
    K_BREAKER_TOUCHED,
    K_FVG,
    K_FVG_CE_TOUCHED,
    K_FVG_EVICTED,
    K_FVG_EXPIRED,
    K_FVG_FILLED,
    K_FVG_INVALIDATED,
    K_FVG_TOUCHED,
    K_IFVG,
    K_IFVG_EVICTED,
    K_IFVG_EXPIRED,
    K_IFVG_INVALIDATED,
    K_IFVG_TOUCHED,
    K_OB_EVICTED,
    K_OB_INVALIDATED,
    K_OB_MT_VIOLATED,
    K_OB_TOUCHED,
    K_ORDER_BLOCK,
    KINDS,
)
from ictbot.indicators.replay.rows import EventRows

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

NEVER = np.iinfo(np.int64).max // 4  # "no such candle": compares above every index

# snapshot roles in ``TimeframeView`` order and the zone kind names of ``frames._zone_view``
ROLES: tuple[str, ...] = ("fvg", "ifvg", "ob", "breaker")
ROLE_KIND: tuple[str, ...] = ("fvg", "ifvg", "order_block", "breaker")

# what each event kind does to its zone (lifecycle rows point at the zone's creation row through ref0)
_CREATE, _TOUCH, _MID, _FILL, _KILL = 1, 2, 3, 4, 5
_ACTION = np.zeros(len(KINDS), np.int8)
_ROLE_OF_KIND = np.full(len(KINDS), -1, np.int8)
for _kind, _role in ((K_FVG, 0), (K_IFVG, 1), (K_ORDER_BLOCK, 2), (K_BREAKER, 3)):
    _ACTION[_kind] = _CREATE
    _ROLE_OF_KIND[_kind] = _role
for _kind in (K_FVG_TOUCHED, K_IFVG_TOUCHED, K_OB_TOUCHED, K_BREAKER_TOUCHED):
    _ACTION[_kind] = _TOUCH
_ACTION[K_FVG_CE_TOUCHED] = _ACTION[K_OB_MT_VIOLATED] = _MID  # the zone's ``mid_hit``
_ACTION[K_FVG_FILLED] = _FILL
for _kind in (K_FVG_INVALIDATED, K_FVG_EXPIRED, K_FVG_EVICTED, K_IFVG_INVALIDATED, K_IFVG_EXPIRED,
              K_IFVG_EVICTED, K_OB_INVALIDATED, K_OB_EVICTED, K_BREAKER_INVALIDATED, K_BREAKER_EVICTED):
    _ACTION[_kind] = _KILL


@dataclass(frozen=True)
class Lifecycles:
    """All zones of one timeframe in creation (log) order; candle indexes of their state changes.

    ``touch`` / ``mid`` / ``fill`` / ``kill``: confirm index of the ``*_touched``, ``fvg_ce_touched`` or
    ``ob_mt_violated``, ``fvg_filled`` and killing event (``NEVER`` = none). ``changes``: the
    (touch, mid, fill) rows as (confirm index, zone), in log order.
    """

    row: I64  # creation event row
    role: I64  # index into ROLES
    direction: I64
    top: F64
    bottom: F64
    confirm: I64
    touch: I64
    mid: I64
    fill: I64
    kill: I64
    change_confirm: I64
    change_zone: I64


def lifecycles(rows: EventRows) -> Lifecycles:
    action = _ACTION[rows.kind]
    created = np.flatnonzero(action == _CREATE)
    zone_of_row = np.full(len(rows), -1, np.int64)
    zone_of_row[created] = np.arange(created.shape[0])
    per_action: dict[int, I64] = {}
    for code in (_TOUCH, _MID, _FILL, _KILL):
        at = np.full(created.shape[0], NEVER, np.int64)
        lifecycle = np.flatnonzero(action == code)
        zones = zone_of_row[rows.ref0[lifecycle]]
        if bool(np.any(zones < 0)):
            raise ValueError(f"{KINDS[int(rows.kind[lifecycle[zones < 0][0]])]} row without its zone's creation row")
        at[zones[::-1]] = rows.confirm[lifecycle][::-1]  # the first such event counts (there is only one)
        per_action[code] = at
    changing = np.flatnonzero((action == _TOUCH) | (action == _MID) | (action == _FILL))
    return Lifecycles(created, _ROLE_OF_KIND[rows.kind[created]].astype(np.int64), rows.direction[created],
                      rows.top[created], rows.bottom[created], rows.confirm[created], per_action[_TOUCH],
                      per_action[_MID], per_action[_FILL], per_action[_KILL], rows.confirm[changing],
                      zone_of_row[rows.ref0[changing]])


def zone_facts(rows: EventRows, life: Lifecycles) -> tuple[I64, F64]:
    """Per zone, what its records are built from, one row per zone (one ``tolist`` reads them all).

    Ints: creation row, anchor time, confirm time, anchor index, confirm index, direction. Floats: top,
    bottom.
    """
    cols = rows.cols
    g = life.row
    anchor_time = cols.open_time[rows.anchor[g]]
    confirm_time = cols.open_time[rows.confirm[g]] + cols.tf_ms
    facts = np.stack([g, anchor_time, confirm_time, rows.anchor[g], rows.confirm[g], rows.direction[g]], axis=1)
    return facts, np.stack([rows.top[g], rows.bottom[g]], axis=1)


class MinTree:
    """Minimums of aligned power-of-two blocks (level L: blocks of 2**L values), padded with +inf."""

    __slots__ = ("levels", "size")

    def __init__(self, values: F64) -> None:
        n = int(values.shape[0])
        size = 1
        while size < n:
            size *= 2
        base = np.full(size, np.inf)
        base[:n] = values
        levels = [base]
        while levels[-1].shape[0] > 1:
            below = levels[-1]
            levels.append(np.minimum(below[0::2], below[1::2]))
        self.levels = levels
        self.size = size

    def first_below(self, start: I64, limit: F64, strict: bool) -> I64:
        """Per query, the first index ``j >= start`` with ``value[j] < limit`` (``<=`` unless ``strict``),
        or ``NEVER``. Vectorised over queries: one ascent to the block holding the answer (aligned blocks
        to the right of ``start``), one descent inside it; O(log n) numpy steps for all queries at once."""
        levels = self.levels
        size = self.size
        hit = np.less if strict else np.less_equal
        pos = np.minimum(start.astype(np.int64), size)
        found = np.full(pos.shape[0], -1, np.int64)  # level of the block holding the answer
        top = len(levels) - 1
        for level, mins in enumerate(levels):
            block = pos >> level
            check = (found < 0) & (pos < size) & (((block & 1) == 1) | (level == top))
            ask = np.flatnonzero(check)
            if ask.shape[0] == 0:
                continue
            yes = hit(mins[block[ask]], limit[ask])
            found[ask[yes]] = level
            pos[ask[~yes]] += 1 << level
        for level in range(top - 1, -1, -1):
            ask = np.flatnonzero(found > level)
            if ask.shape[0] == 0:
                continue
            left = levels[level][pos[ask] >> level]
            pos[ask[~hit(left, limit[ask])]] += 1 << level
        pos[found < 0] = NEVER
        return pos


def base_crossings(life: Lifecycles, start: I64, low: MinTree, neg_high: MinTree, close: MinTree,
                   neg_close: MinTree) -> tuple[I64, I64]:
    """``BaseTracker`` on whole columns: per zone the base candle of its first touch (bullish: low <= top,
    bearish: high >= bottom) from ``start`` on, and of its first close through (bullish: close < bottom,
    bearish: close > top) from the touch on; ``NEVER`` when none."""
    touch = np.full(start.shape[0], NEVER, np.int64)
    crossed = np.full(start.shape[0], NEVER, np.int64)
    bullish = life.direction > 0
    for side, touch_tree, touch_limit, break_tree, break_limit in (
            (bullish, low, life.top, close, life.bottom), (~bullish, neg_high, -life.bottom, neg_close, -life.top)):
        zones = np.flatnonzero(side)
        first = touch_tree.first_below(start[zones], touch_limit[zones], strict=False)
        touch[zones] = first
        touched = zones[first < NEVER]
        crossed[touched] = break_tree.first_below(touch[touched], break_limit[touched], strict=True)
    return touch, crossed
