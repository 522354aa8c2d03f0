"""The liquidity levels of a replayed view: the nearest untaken levels per side at any candle.

Mirrors ``TimeframeState.sync`` (levels part) and ``frames._level``: untaken levels per side ordered by
``(level, seq)`` on the buy side and ``(−level, seq)`` on the sell side, the first ``limit`` of each,
buy side first. The kernels' ``LevelTable`` gives every level version (a level at one price) with the
candles it is shown on; ranking the versions once in view order turns a view into "the first ``limit``
ranks alive per side", which one compiled pass records at every candle where it changes.
"""

from __future__ import annotations

import bisect

import numpy as np
import numpy.typing as npt

from ictbot.domain.ict import LiquidityLevel
from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.batch import KernelColumns
from ictbot.indicators.kernels.codes import TAGS
from ictbot.indicators.replay.rows import EventRows

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

_BLOCK = 6  # log2 of the ranks per alive count block
_SUPER = 12  # log2 of the ranks per alive count super-block


@jit
def _previous_alive(alive, block, sup, lo, r):  # type: ignore[no-untyped-def]
    """The last alive rank in ``[lo, r)`` (−1 if none); skips empty aligned blocks by their counts."""
    q = r - 1
    while q >= lo:
        if q & ((1 << _SUPER) - 1) == (1 << _SUPER) - 1 and sup[q >> _SUPER] == 0:
            q -= 1 << _SUPER
        elif q & ((1 << _BLOCK) - 1) == (1 << _BLOCK) - 1 and block[q >> _BLOCK] == 0:
            q -= 1 << _BLOCK
        elif alive[q]:
            return q
        else:
            q -= 1
    return -1


@jit
def _link(alive, block, sup, nxt, prv, head, split, sd, r):  # type: ignore[no-untyped-def]
    """Rank ``r`` shows: link it after the previous alive rank of its side."""
    p = _previous_alive(alive, block, sup, 0 if sd == 0 else split, r)
    after = head[sd] if p < 0 else nxt[p]
    prv[r] = p
    nxt[r] = after
    if after >= 0:
        prv[after] = r
    if p < 0:
        head[sd] = r
    else:
        nxt[p] = r


@jit
def _unlink(nxt, prv, head, sd, r):  # type: ignore[no-untyped-def]
    """Rank ``r`` hides: take it out of its side's list."""
    p = prv[r]
    after = nxt[r]
    if after >= 0:
        prv[after] = p
    if p < 0:
        head[sd] = after
    else:
        nxt[p] = after


@jit
def _relist(dirty, head, nxt, cur, limit):  # type: ignore[no-untyped-def]
    """Rewrite the first ``limit`` ranks of each dirty side into ``cur``; True when any entry changed."""
    changed = False
    for sd in range(2):
        if not dirty[sd]:
            continue
        r = head[sd]
        for q in range(sd * limit, sd * limit + limit):
            if cur[q] != r:
                cur[q] = r
                changed = True
            if r >= 0:
                r = nxt[r]
    return changed


@jit
def _nearest_changes(ev_candle, ev_rank, ev_on, m, split, limit, n_out):  # type: ignore[no-untyped-def]
    """Fold the shows / hides (by candle) of ranks ``0..m`` (buy side ``< split``) and record, at every
    candle where it changes, the first ``limit`` alive ranks of each side: buy then sell ranks of change
    ``x`` are ``flat[offsets[x]:offsets[x + 1]]``.

    Alive ranks form one linked list per side in rank order (a new rank is linked after the previous
    alive one, found through per-block alive counts), so a side's first ranks are a walk from its head.
    """
    alive = np.zeros(m, np.bool_)
    block = np.zeros((m >> _BLOCK) + 1, np.int64)
    sup = np.zeros((m >> _SUPER) + 1, np.int64)
    nxt = np.full(m, -1, np.int64)
    prv = np.full(m, -1, np.int64)
    head = np.full(2, -1, np.int64)  # first alive rank of the buy / sell side
    dirty = np.zeros(2, np.bool_)  # per side: the candle's changes may reach its listed ranks
    width = 2 * limit
    cur = np.full(width, -1, np.int32)
    out_candle = np.empty(n_out, np.int64)
    offsets = np.zeros(n_out + 1, np.int64)
    flat = np.empty(n_out * width, np.int32)
    nout = 0
    e = 0
    ne = ev_candle.shape[0]
    while e < ne:
        candle = ev_candle[e]
        dirty[:] = False
        while e < ne and ev_candle[e] == candle:
            r = ev_rank[e]
            sd = 0 if r < split else 1
            # a side's list changes only if a rank up to its last entry changes (or the list is short)
            last = cur[sd * limit + limit - 1] if limit > 0 else 0
            if limit > 0 and (last < 0 or r <= last):
                dirty[sd] = True
            if ev_on[e]:
                _link(alive, block, sup, nxt, prv, head, split, sd, r)
            else:
                _unlink(nxt, prv, head, sd, r)
            delta = 1 if ev_on[e] else -1
            alive[r] = ev_on[e]
            block[r >> _BLOCK] += delta
            sup[r >> _SUPER] += delta
            e += 1
        if (dirty[0] or dirty[1]) and _relist(dirty, head, nxt, cur, limit):
            out_candle[nout] = candle
            end = offsets[nout]
            for q in range(width):
                if cur[q] >= 0:
                    flat[end] = cur[q]
                    end += 1
            nout += 1
            offsets[nout] = end
    return out_candle[:nout].copy(), offsets[:nout + 1].copy(), flat[:offsets[nout]].copy()


class LiquidityReplay:
    """``TimeframeView.liquidity`` of one timeframe at any candle (``limit`` None = every untaken level)."""

    def __init__(self, cols: KernelColumns, rows: EventRows, limit: int | None = 25) -> None:
        if limit is not None and limit < 0:
            raise ValueError("liquidity limit must be >= 0 or None")
        self._rows = rows
        self._limit = limit
        self._tf = cols.tf
        self._n = len(cols.open_time)
        table = cols.levels
        shown = np.flatnonzero(table.birth < table.death)  # versions visible on at least one candle
        side = table.side[shown]
        price = table.price[shown]
        # view order: buy side first, each side nearest first ((level, seq) / (−level, seq), as sync's keys)
        self._order: I64 = shown[np.lexsort((table.seq[shown], np.where(side > 0, price, -price), -side))]
        self._birth: I64 = table.birth[self._order]
        self._death: I64 = table.death[self._order]
        self._split = int(np.count_nonzero(side > 0))
        # what a view is built from, per rank as plain lists (numpy scalar reads cost more than the view)
        order = self._order
        self._sides: list[int] = table.side[order].tolist()
        self._prices: list[float] = table.price[order].tolist()
        self._sources: list[int] = table.source[order].tolist()
        self._parents: list[int] = table.parent[order].tolist()
        self._anchor_times: list[int] = table.anchor_time[order].tolist()
        self._confirm_times: list[int] = (cols.open_time[table.confirm[order]] + cols.tf_ms).tolist()
        self._views: list[LiquidityLevel | None] = [None] * int(self._order.shape[0])
        self._at = -2  # last answered position (a change index, or a candle when limit is None)
        self._last: tuple[LiquidityLevel, ...] = ()
        self._change_candles: list[int] = []
        self._change_offsets: list[int] = [0]
        self._change_ranks: I32 = np.zeros(0, np.int32)
        if limit is not None:
            self._build_changes(limit)

    def _build_changes(self, limit: int) -> None:
        m = int(self._order.shape[0])
        ranks = np.arange(m, dtype=np.int64)
        ends = self._death < self._n  # hidden again before the series ends
        candle = np.concatenate((self._birth, self._death[ends]))
        rank = np.concatenate((ranks, ranks[ends]))
        on = np.concatenate((np.ones(m, np.bool_), np.zeros(int(np.count_nonzero(ends)), np.bool_)))
        by_candle = np.argsort(candle, kind="stable")
        candle = candle[by_candle]
        n_out = int(np.count_nonzero(np.diff(candle))) + 1 if candle.shape[0] else 0
        change_candles, offsets, self._change_ranks = _nearest_changes(candle, rank[by_candle], on[by_candle], m,
                                                                       self._split, limit, n_out)
        self._change_candles = change_candles.tolist()
        self._change_offsets = offsets.tolist()

    def at(self, index: int) -> tuple[LiquidityLevel, ...]:
        """The view's levels once candle ``index`` of this timeframe was stepped."""
        if self._limit is None:
            return self._all(index)
        at = bisect.bisect_right(self._change_candles, index) - 1
        if at == self._at:
            return self._last
        self._at = at
        if at < 0:
            self._last = ()
            return self._last
        offsets = self._change_offsets
        ranks = self._change_ranks[offsets[at]:offsets[at + 1]].tolist()
        views = self._views
        make = self._view
        self._last = tuple([views[r] or make(r) for r in ranks])
        return self._last

    def _all(self, index: int) -> tuple[LiquidityLevel, ...]:
        if index != self._at:
            self._at = index
            alive = np.flatnonzero((self._birth <= index) & (self._death > index)).tolist()
            views = self._views
            make = self._view
            self._last = tuple([views[r] or make(r) for r in alive])
        return self._last

    def _view(self, rank: int) -> LiquidityLevel:
        """Rank ``rank`` as ``frames._level`` shows it (id from the creating event, or from the pivot)."""
        side = self._sides[rank]
        source = TAGS[self._sources[rank]]
        parent = self._parents[rank]
        confirm_time = self._confirm_times[rank]
        if source == "pool" and parent >= 0:
            level_id = self._rows.event_id(parent)
        elif parent >= 0:
            level_id = f"{self._rows.event_id(parent)}:{'high' if side > 0 else 'low'}"
        else:
            level_id = f"{self._tf}:{source}:{'high' if side > 0 else 'low'}:{self._anchor_times[rank]}:{confirm_time}"
        view = LiquidityLevel(level_id, side, self._prices[rank], source, self._tf, confirm_time)
        self._views[rank] = view
        return view
