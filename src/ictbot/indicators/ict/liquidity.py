"""Liquidity levels, equal-highs/lows pools, taking, sweeps and runs (ict-spec §5)."""

from __future__ import annotations

import heapq
import math

from ictbot.indicators.core.history import History
from ictbot.indicators.events import Event, EventFactory
from ictbot.indicators.ict import equal_levels
from ictbot.indicators.ict.equal_levels import SideSearch, SwingRecord
from ictbot.indicators.ict.liquidity_levels import NEAR_LEVELS, ColdSide, Level, pack_far, revive_near, revive_pool
from ictbot.indicators.ict.previous_period import PeriodLevel
from ictbot.indicators.ict.sessions import SessionLevel
from ictbot.indicators.params import LiquidityParams


class Pool:
    __slots__ = ("anchor_time", "event_id", "level", "members", "packed_seq", "side", "values")

    def __init__(self, side: int, event_id: str, members: list[int], values: list[float], anchor_time: int) -> None:
        self.side = side
        self.event_id = event_id
        self.members = members
        self.values = values
        self.anchor_time = anchor_time
        self.level: Level | None = None
        self.packed_seq = -1  # creation seq of its level while that is packed (``level`` is then None)


class LiquidityIndicator:
    __slots__ = (
        "alive",
        "cold",
        "confirm_time",
        "enabled",
        "highs",
        "hot_count",
        "journal",
        "lows",
        "near",
        "p",
        "pack_at",
        "pending",
        "phash",
        "pushes",
        "seq",
        "side_heaps",
        "taken",
        "track_taken",
        "version",
        "waiting",
    )

    def __init__(self, params: LiquidityParams, phash: str, *, track_taken: bool = True,
                 near_levels: int | None = NEAR_LEVELS) -> None:
        """``track_taken``: keep ``taken`` (only strict breakers and ``require_sweep`` read it; it grows
        by one index per candle that takes liquidity, so the engine turns it off when nobody reads it).
        ``near_levels``: alive levels kept as objects in front of the packed far ones, per side (None:
        every alive level stays an object)."""
        self.p = params
        self.phash = phash
        self.enabled = frozenset(params.sources)
        self.seq = 0
        self.side_heaps: dict[int, list[tuple[float, int, int, Level]]] = {1: [], -1: []}
        self.pending: list[Level] = []  # taken, classification still open (sweep_window > 0)
        self.waiting: list[Level] = []  # window levels first tested on the next candle
        self.highs = SideSearch(1)
        self.lows = SideSearch(-1)
        self.taken: dict[int, list[int]] = {1: [], -1: []}  # confirm indexes of liquidity_taken per side
        self.track_taken = track_taken
        self.alive: dict[Level, None] = {}  # alive levels in the order they became testable
        self.journal: list[Level] | None = None  # levels added / changed / taken, for a snapshot builder
        self.version = 0
        self.confirm_time = 0  # close time of the current candle (stamped on new levels)
        self.pushes = 0  # levels made testable so far (their ``order``)
        self.cold = {1: ColdSide(1), -1: ColdSide(-1)}  # far alive levels, packed (liquidity_levels.py)
        self.hot_count = {1: 0, -1: 0}  # alive levels per side held as objects (in the heap)
        self.near: int | None = None
        self.pack_at = {1: 0, -1: 0}
        self.set_near_levels(near_levels)

    # ---- public ------------------------------------------------------------------------------------

    def step(self, hist: History, i: int, t: int, h: float, lo: float, c: float, atr_now: float,
             periods: list[PeriodLevel], sessions: list[SessionLevel], is_high: bool, is_low: bool,
             factory: EventFactory, out: list[Event]) -> None:
        """Candle i (values passed by the engine); ``is_high`` / ``is_low``: fractal pivots of this
        indicator's (left, right) at i − right, judged by the engine."""
        self.confirm_time = factory.confirm_time
        if self.waiting:
            for level in self.waiting:
                self.push(level)
            self.waiting = []
        for period in periods:
            if period.source in self.enabled:
                e = period.event
                assert e.top is not None and e.bottom is not None
                self.push(self._new(1, e.top, period.source, period.high_index, period.high_time, i, e.id))
                self.push(self._new(-1, e.bottom, period.source, period.low_index, period.low_time, i, e.id))
        for session in sessions:
            if session.source in self.enabled:
                e = session.event
                assert e.top is not None and e.bottom is not None
                pair = (self._new(1, e.top, session.source, session.high_index, session.high_time, i, e.id),
                        self._new(-1, e.bottom, session.source, session.low_index, session.low_time, i, e.id))
                for level in pair:
                    if t >= session.end:
                        self.push(level)
                    else:
                        self.waiting.append(level)
        # _take has work only if a heap head is reached or a classification is open (the heads are read
        # exactly as _take's own loops read them); packed levels lie behind >= ``near`` alive heap
        # entries (``revive_near``), so price reaching one reaches the heap head first
        buy = self.side_heaps[1]
        sell = self.side_heaps[-1]
        if (buy and buy[0][0] < h) or (sell and -sell[0][0] > lo) or self.pending:
            self._take(i, h, lo, c, atr_now, factory, out)
        # raw liquidity-stream pivots: the running extremes lagging R candles, then the pivot at i − R
        right = self.p.right
        lag_index = i - right
        if lag_index >= 0:
            highs, lows = self.highs, self.lows
            lb = lag_index - hist.base
            if highs.records and lag_index > highs.records[-1].anchor:
                lh = hist.h[lb]
                if lh > highs.lag:
                    highs.lag = lh
            if lows.records and lag_index > lows.records[-1].anchor:
                ll = hist.l[lb]
                if ll < lows.lag:
                    lows.lag = ll
        if is_high or is_low:
            self._swings(hist, i, atr_now, is_high, is_low, factory, out)

    def alive_levels(self) -> list[Level]:
        """Every untaken level in the order they became testable (packed ones as new objects)."""
        cold = [level for side in (1, -1) for level in self.cold[side].rows(0, len(self.cold[side]))]
        return sorted([*self.alive, *cold], key=_order_of)  # revived levels re-entered ``alive`` later

    def set_near_levels(self, near: int | None) -> None:
        """Keep at least ``near`` alive levels per side as objects in front of the packed ones (None:
        pack none, and revive those packed). A snapshot showing the nearest N levels per side needs
        ``near >= N``."""
        if near is not None and near < 1:
            raise ValueError(f"near_levels: must be >= 1 or None, got {near}")
        self.near = near
        for side in (1, -1):
            self.pack_at[side] = 3 * near if near is not None else 0
            if near is None and len(self.cold[side]):
                for level in self.cold[side].pop_nearest(len(self.cold[side])):
                    self.push(level)
            else:
                revive_near(self, side)  # a larger ``near``: more objects in front of the packed rows

    # ---- levels ------------------------------------------------------------------------------------

    def _new(self, side: int, price: float, source: str, anchor: int, anchor_time: int, confirm: int,
             parent_id: str | None) -> Level:
        self.seq += 1
        return Level(side, price, source, anchor, anchor_time, confirm, self.confirm_time, parent_id, self.seq)

    def push(self, level: Level) -> None:
        level.version += 1
        side = level.side
        if level.version == 1:
            self.alive[level] = None
            self.hot_count[side] += 1
            if level.order < 0:
                level.order = self.pushes
                self.pushes += 1
        if self.journal is not None:
            self.journal.append(level)
        heap = self.side_heaps[side]
        heapq.heappush(heap, (level.level if side > 0 else -level.level, level.key[3], level.version, level))
        self.version += 1
        if self.near is not None and self.hot_count[side] > self.pack_at[side]:
            pack_far(self, side)

    def _take(self, j: int, h: float, lo: float, c: float, atr_now: float, factory: EventFactory,
              out: list[Event]) -> None:
        taken = self._reached(h, lo)
        if not taken and not self.pending:
            return
        k_exc = self.p.k_exc
        for level in taken:
            level.alive = False
            level.taken_index = j
            level.excursion = 0.0
            level.exc_limit = math.nan if k_exc is None or math.isnan(atr_now) else k_exc * atr_now
            self.alive.pop(level, None)  # packed levels revived just now were never in it
            if self.journal is not None:
                self.journal.append(level)
            if self.track_taken:
                taken_at = self.taken[level.side]
                if not taken_at or taken_at[-1] != j:
                    taken_at.append(j)
        self.version += 1
        if taken:
            revive_near(self, 1)
            revive_near(self, -1)
        work = self.pending + taken
        work.sort(key=_key_of)
        still: list[Level] = []
        window = self.p.sweep_window
        for level in work:
            if level.taken_index == j:
                out.append(self._event("liquidity_taken", level, factory))
            lam = level.level
            if level.side > 0:
                excursion = max(level.excursion, h - lam)
                back_inside = c <= lam
            else:
                excursion = max(level.excursion, lam - lo)
                back_inside = c >= lam
            level.excursion = excursion
            if not math.isnan(level.exc_limit) and excursion > level.exc_limit:
                out.append(self._event("run", level, factory, excursion))
            elif back_inside:
                out.append(self._event("sweep", level, factory, excursion))
            elif j == level.taken_index + window:
                out.append(self._event("run", level, factory, excursion))
            else:
                still.append(level)
        self.pending = still

    def _reached(self, h: float, lo: float) -> list[Level]:
        """The alive levels candle (h, lo) reaches, from the object heaps and the packed rows."""
        taken: list[Level] = []
        buy = self.side_heaps[1]
        while buy and buy[0][0] < h:
            _, _, version, level = heapq.heappop(buy)
            if level.alive and level.version == version:
                taken.append(level)
                self.hot_count[1] -= 1
        sell = self.side_heaps[-1]
        while sell and -sell[0][0] > lo:
            _, _, version, level = heapq.heappop(sell)
            if level.alive and level.version == version:
                taken.append(level)
                self.hot_count[-1] -= 1
        for side, threshold in ((1, h), (-1, -lo)):  # packed levels price reached (heap keys below it)
            cold = self.cold[side]
            reached = cold.reached(threshold)
            if reached:
                taken += cold.pop_nearest(reached)
        return taken

    def _event(self, kind: str, level: Level, factory: EventFactory, excursion: float | None = None) -> Event:
        fields: dict[str, object] = {"level": level.level, "source": level.source,
                                     "source_confirm_index": level.confirm_index, "taken_index": level.taken_index,
                                     "parent_id": level.parent_id}
        if excursion is not None:
            fields["excursion"] = excursion
        return factory.make(kind, level.side, level.source, level.anchor_index, level.anchor_time, self.phash,
                            level=level.level, fields=fields)

    # ---- raw swings and pools ---------------------------------------------------------------------

    def _swings(self, hist: History, i: int, atr_now: float, is_high: bool, is_low: bool, factory: EventFactory,
                out: list[Event]) -> None:
        right = self.p.right
        b = i - hist.base
        highs, lows = self.highs, self.lows
        pivot = i - right
        pb = pivot - hist.base
        anchor_time = hist.t[pb]
        tol = self._tolerance(atr_now)
        for side, flag in ((1, is_high), (-1, is_low)):
            if not flag:
                continue
            search = highs if side > 0 else lows
            price = hist.h[pb] if side > 0 else hist.l[pb]
            if "swing" in self.enabled:
                self.push(self._new(side, price, "swing", pivot, anchor_time, i, None))
            # close the previous record's segment at the pivot, open the new one
            if search.records:
                last = search.records[-1]
                lagged = hist.h[pb] if side > 0 else hist.l[pb]
                last.seg = max(search.lag, lagged) if side > 0 else min(search.lag, lagged)
            after = (hist.h if side > 0 else hist.l)[pb + 1:b + 1]
            seg_now = max(after) if side > 0 else min(after)
            search.records.append(SwingRecord(pivot, price, seg_now))
            search.lag = -math.inf if side > 0 else math.inf
            if tol is not None:
                self._match(search, price, pivot, anchor_time, i, tol, factory, out)
            equal_levels.prune_dominated(search)

    def _tolerance(self, atr_now: float) -> float | None:
        """ATR part of ``tol[i]`` (0 when its coefficient is 0); None = undefined ATR, no pool at i."""
        k_atr = self.p.k_atr
        if k_atr == 0.0:
            return 0.0
        if math.isnan(atr_now):
            return None
        return k_atr * atr_now

    def _match(self, search: SideSearch, x: float, px: int, anchor_time: int, i: int, tol_atr: float,
               factory: EventFactory, out: list[Event]) -> None:
        tol = tol_atr
        if self.p.k_bps != 0.0:  # the bps term is relative to x, the new pivot's level (§5)
            tol = max(tol, self.p.k_bps * 1e-4 * x)
        side = search.side
        records = search.records
        running = records[-1].seg  # extreme of candles after X up to i
        for q in range(len(records) - 2, -1, -1):
            rec = records[q]
            seg = rec.seg
            if side > 0:
                if seg > running:
                    running = seg
                if running > x + tol:
                    return
                ok = abs(x - rec.level) <= tol and running <= max(x, rec.level)
            else:
                if seg < running:
                    running = seg
                if running < x - tol:
                    return
                ok = abs(x - rec.level) <= tol and running >= min(x, rec.level)
            if ok:
                self._pool(search, rec, x, px, anchor_time, i, factory, out)
                return

    def _pool(self, search: SideSearch, y: SwingRecord, x: float, px: int, anchor_time: int, i: int,
              factory: EventFactory, out: list[Event]) -> None:
        side = search.side
        pool = search.last_member.get(y.anchor)
        if pool is not None and pool.packed_seq >= 0:
            revive_pool(self, pool)  # its level was packed (or taken since: then it stays None)
        if pool is not None and pool.level is not None and pool.level.alive:
            del search.last_member[y.anchor]
            pool.members.append(px)
            pool.values.append(x)
            kind = "liquidity_pool_extended"
            parent: str | None = pool.event_id
        else:
            if pool is not None:  # its level is gone: the entry can never extend a pool again
                del search.last_member[y.anchor]
            pool = Pool(side, "", [y.anchor, px], [y.level, x], anchor_time)
            kind = "liquidity_pool"
            parent = None
        top, bottom = max(pool.values), min(pool.values)
        mean = sum(pool.values) / len(pool.values)
        fields: dict[str, object] = {"mean": mean, "members": list(pool.members)}
        if parent is not None:
            fields["parent_id"] = parent
        event = factory.make(kind, side, "-", px, anchor_time, self.phash, top=top, bottom=bottom,
                             level=top if side > 0 else bottom, fields=fields)
        out.append(event)
        search.last_member[px] = pool
        price = top if side > 0 else bottom
        if parent is None:
            pool.event_id = event.id
            if "pool" in self.enabled:
                level = self._new(side, price, "pool", px, anchor_time, i, event.id)
                pool.level = level
                self.push(level)
        elif pool.level is not None and pool.level.level != price:
            pool.level.level = price
            self.push(pool.level)
            revive_near(self, side)  # the pool level moved away: fewer objects may be in front of the packed ones


def _key_of(level: Level) -> tuple[int, int, int, int]:
    return level.key


def _order_of(level: Level) -> int:
    return level.order

