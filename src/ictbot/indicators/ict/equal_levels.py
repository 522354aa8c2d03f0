"""Equal-level search state of the liquidity indicator (ict-spec §5 pools): pivots that may still pair up."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ictbot.indicators.ict.liquidity import Pool


class SwingRecord:
    """A raw liquidity-stream pivot with the max (min) of h (l) over its segment up to the next pivot."""

    __slots__ = ("anchor", "level", "seg")

    def __init__(self, anchor: int, level: float, seg: float) -> None:
        self.anchor = anchor
        self.level = level
        self.seg = seg


class SideSearch:
    """Equal-level matching for one side (+1 highs, −1 lows).

    ``records`` holds only pivots that can still be the first match of a future pivot: a record is
    dropped once a newer pivot on its side is at least as extreme (``prune_dominated``), so the records
    left are ever less extreme from oldest to newest instead of one record per pivot for ever.
    """

    __slots__ = ("lag", "last_member", "records", "side")

    def __init__(self, side: int) -> None:
        self.side = side
        self.records: list[SwingRecord] = []
        self.lag = -math.inf if side > 0 else math.inf  # same, lagging R candles (to i − R)
        self.last_member: dict[int, Pool] = {}  # pivot anchor → pool whose newest member it is


def prune_dominated(search: SideSearch) -> None:
    """Drop the records before the newest one that it dominates (level at least as extreme).

    Why no event changes: let q be older than r with level(r) ≥ level(q) (highs; lows mirrored) and
    ``run(q)`` ≥ max(run(r), level(r)) the highest high after q's pivot. If a future pivot x matched q,
    |x − level(q)| ≤ tol and run(q) ≤ max(x, level(q)). Either run(q) > level(q), then x ≥ run(q) ≥
    level(r) ≥ level(q); or run(q) = level(q) = level(r). Both give |x − level(r)| ≤ tol and run(r) ≤
    max(x, level(r)): r matches, and ``LiquidityIndicator._match`` (newest first, no early stop below
    x + tol) returns at r or a newer record before reaching q. A dropped record's segment extreme is folded into its
    predecessor's, so every older record's running extreme stays what it was.
    """
    records = search.records
    if len(records) < 2:
        return
    newest = records[-1]
    x = newest.level
    side = search.side
    k = len(records) - 2
    while k >= 0 and (records[k].level <= x if side > 0 else records[k].level >= x):
        k -= 1
    if k == len(records) - 2:
        return
    # records k+1 .. len−2 are dominated by the newest one
    dropped = records[k + 1:-1]
    seg = dropped[0].seg
    for rec in dropped:
        seg = max(seg, rec.seg) if side > 0 else min(seg, rec.seg)
        search.last_member.pop(rec.anchor, None)
    if k >= 0:
        kept = records[k]
        kept.seg = max(kept.seg, seg) if side > 0 else min(kept.seg, seg)
    del records[k + 1:-1]
