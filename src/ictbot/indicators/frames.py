"""One timeframe's engine plus what its snapshot view needs (ict-spec §10).

``TimeframeState`` wraps a ``TimeframeEngine`` with the read-only mirrors a view is built from
(recent events converted lazily, live zones and liquidity levels kept in sync from the books'
change journals); ``BaseTracker`` follows a higher timeframe's zones on base candles from the base
candle after their HTF close. ``MultiTimeframeEngine`` (``mtf.py``) composes them.
"""

from __future__ import annotations

import bisect
import heapq
from typing import Any

from ictbot.domain.ict import IctEvent, LiquidityLevel, TimeframeView, Zone
from ictbot.indicators.core.zones import ZoneBook, ZoneState
from ictbot.indicators.events import Event
from ictbot.indicators.ict.liquidity_levels import NEAR_LEVELS, Level
from ictbot.indicators.resampling import Resampler
from ictbot.indicators.stream import TimeframeEngine


class BaseTracker:
    """Tracks higher-timeframe zones on base candles from the base candle after their HTF close (§10).

    Bullish zones wait for price to come down (``l <= top`` = touched, then ``c < bottom`` = closed
    through), bearish zones mirror; one heap per side keyed by the next threshold, as in ``ZoneBook``.
    """

    __slots__ = ("_seq", "down", "pending", "up")

    def __init__(self) -> None:
        # heads are read by the multi-timeframe engine before calling ``test`` (nothing to do on most candles)
        self.down: list[tuple[float, int, ZoneState]] = []
        self.up: list[tuple[float, int, ZoneState]] = []
        self._seq = 0
        self.pending: list[ZoneState] = []  # created at the current base candle, tracked from the next one

    def _push(self, zone: ZoneState) -> None:
        self._seq += 1
        up = zone.direction > 0
        untouched = zone.base_touch == 0  # next rule: touch (near edge), then close through (far edge)
        key = (zone.top if up else zone.bottom) if untouched else (zone.bottom if up else zone.top)
        if up:
            heapq.heappush(self.down, (-key, self._seq, zone))
        else:
            heapq.heappush(self.up, (key, self._seq, zone))

    def start_pending(self) -> None:
        for zone in self.pending:
            self._push(zone)
        self.pending = []

    def test(self, close_time: int, h: float, lo: float, c: float) -> list[ZoneState]:
        down = self.down
        up = self.up
        if (not down or -down[0][0] < lo) and (not up or up[0][0] > h):
            return _NO_ZONES  # no threshold reached (the common case)
        changed: list[ZoneState] = []
        popped: list[ZoneState] = []
        while down and -down[0][0] >= lo:
            popped.append(heapq.heappop(down)[2])
        while up and up[0][0] <= h:
            popped.append(heapq.heappop(up)[2])
        for zone in popped:
            if not zone.alive or zone.base_break:
                continue
            before = (zone.base_touch, zone.base_break)
            bullish = zone.direction > 0
            if zone.base_touch == 0 and (lo <= zone.top if bullish else h >= zone.bottom):
                zone.base_touch = close_time
            if zone.base_touch and (c < zone.bottom if bullish else c > zone.top):
                zone.base_break = close_time
            if (zone.base_touch, zone.base_break) != before:
                zone.changes += 1
                changed.append(zone)
            if not zone.base_break:
                self._push(zone)
        return changed


_NO_ZONES: list[ZoneState] = []  # shared empty result: callers only iterate it


class TimeframeState:
    """Engine of one timeframe plus what its view needs (recent events, mirrored zones and levels)."""

    __slots__ = ("book_list", "engine", "keys", "levels", "limit", "nearest", "new", "new_count", "raw", "recent",
                 "recent_limit", "recent_view", "resampler", "tf_ms", "tf_name", "tracker", "tuples", "view", "zones")

    def __init__(self, engine: TimeframeEngine, recent: int, resampler: Resampler | None,
                 liquidity_limit: int | None = None) -> None:
        self.engine = engine
        self.tf_name = engine.timeframe.value  # enum properties are slow: read once
        self.tf_ms = engine.timeframe.ms
        # the last ``recent_limit`` converted events, oldest first
        self.recent: list[IctEvent] = []
        self.recent_limit = recent
        self.recent_view: tuple[IctEvent, ...] = ()
        # per step with events, the events not yet converted to ``IctEvent`` (with the base index j(k) of
        # an HTF step): conversion happens only when a view is read, so unread snapshots cost none
        self.raw: list[tuple[list[Event], int | None]] = []
        self.new: tuple[IctEvent, ...] | None = ()  # None: the latest step's events are still in ``raw``
        self.new_count = 0
        self.resampler = resampler
        self.view: TimeframeView | None = None
        # read-only copies of the live zones / levels, updated from the books' journals
        self.zones: dict[str, dict[ZoneState, Zone]] = {"fvg": {}, "ifvg": {}, "ob": {}, "breaker": {}}
        # untaken levels per side sorted nearest-first (buy-side ascending, sell-side descending); buy-side
        # levels are never below any later high and sell-side never above any later low, so "nearest to
        # price" is simply the head of each list
        self.levels: dict[Level, tuple[float, int]] = {}
        self.keys: dict[int, list[tuple[float, int]]] = {1: [], -1: []}  # sort keys, unique (seq)
        self.nearest: dict[int, list[LiquidityLevel]] = {1: [], -1: []}  # aligned with ``keys``
        self.limit = liquidity_limit
        self.tuples: dict[str, tuple[object, ...]] = {}
        self.tracker = BaseTracker()
        self.book_list = self.books()
        engine.fvg.book.journal = []
        for _, _, blocks in engine.streams:
            blocks.book.journal = []
        engine.liquidity.journal = []
        # the view's nearest ``limit`` levels per side must be objects, not packed rows (None: every level)
        engine.liquidity.set_near_levels(None if liquidity_limit is None else max(NEAR_LEVELS, liquidity_limit))

    def books(self) -> list[ZoneBook]:
        return [self.engine.fvg.book] + [blocks.book for _, _, blocks in self.engine.streams]

    def step(self, t: int, o: float, h: float, lo: float, c: float, track: bool = False,
             base_index: int | None = None) -> None:
        """``base_index``: for an HTF candle, the base candle j(k) at whose close it becomes visible (§10)."""
        engine = self.engine
        if track:
            books = self.book_list
            marks: list[int] = []  # plain loops: comprehensions and generators are calls on this interpreter
            for book in books:
                marks.append(len(book.journal or ()))
            events = engine.step(t, o, h, lo, c)
            # zones this HTF candle created start being tracked on base candles (§10)
            index = engine.index
            pending = self.tracker.pending
            for book, mark in zip(books, marks, strict=True):
                journal = book.journal
                if journal and len(journal) > mark:
                    for z in journal[mark:]:
                        if z.alive and z.confirm_index == index and z.changes == 0 and z.base_touch == 0:
                            pending.append(z)
        else:
            events = engine.step(t, o, h, lo, c)
        if events:
            raw = self.raw
            raw.append((events, base_index))
            if len(raw) > 4 * self.recent_limit + 64:  # every step holds >= 1 event: keep the last limit steps
                del raw[:len(raw) - max(self.recent_limit, 1)]
            self.new = None
            self.new_count = len(events)
        else:
            self.new = ()
        self.view = None

    def convert(self) -> None:
        """Turn the pending raw events into ``IctEvent`` records (each event is converted once)."""
        raw = self.raw
        if not raw:
            return
        count = self.new_count if self.new is None else 0
        limit = self.recent_limit
        keep = max(limit, count)  # only the events a view can show are converted
        groups: list[tuple[list[Event], int | None]] = []
        total = 0
        for group in reversed(raw):
            groups.append(group)
            total += len(group[0])
            if total >= keep:
                break
        skip = max(total - keep, 0)
        converted: list[IctEvent] = []
        append = converted.append
        for events, base_index in reversed(groups):
            for event in events[skip:] if skip else events:  # inlined: one call per event less
                extra: dict[str, Any] = {**event.fields, "params_hash": event.params_hash}
                if base_index is not None:
                    extra["base_confirm_index"] = base_index
                append(IctEvent(event.id, event.kind, event.direction, event.tf, event.anchor_index,
                                event.confirm_index, event.anchor_time, event.confirm_time, event.top,
                                event.bottom, event.level, extra))
            skip = 0
        if self.new is None:
            self.new = tuple(converted[len(converted) - count:])
        raw.clear()
        if limit:
            recent = self.recent
            recent += converted
            if len(recent) > limit:
                del recent[:len(recent) - limit]
            self.recent_view = tuple(recent)

    def sync(self) -> None:
        engine = self.engine
        tf = self.tf_name
        zones = self.zones
        added: dict[str, set[int]] = {}  # role -> books that added zones in this sync
        for rank, book in enumerate(self.book_list):
            journal = book.journal
            if not journal:
                continue
            roles: list[str] = []  # at most two per book
            for zone in journal:
                role = zone.role
                if role not in roles:
                    roles.append(role)
                shown = zones[role]
                if zone.alive:
                    if zone not in shown:
                        added.setdefault(role, set()).add(rank)
                    shown[zone] = _zone_view(zone, tf)
                else:
                    shown.pop(zone, None)
            for role in roles:
                self.tuples[role] = tuple(zones[role].values())
            journal.clear()
        for role, ranks in added.items():
            if len(ranks) > 1:
                # order blocks / breakers of both structure streams share one view: keep it in creation
                # order (candle, then internal before swing, then book order) however rarely it is read
                self._reorder(role)
        journal_levels = engine.liquidity.journal
        if journal_levels:
            levels = self.levels
            for level in journal_levels:
                old = levels.pop(level, None)
                keys = self.keys[level.side]
                views = self.nearest[level.side]
                if old is not None:
                    at = bisect.bisect_left(keys, old)
                    del keys[at], views[at]
                if level.alive:
                    key = (level.level if level.side > 0 else -level.level, level.key[3])
                    levels[level] = key
                    at = bisect.bisect_left(keys, key)
                    keys.insert(at, key)
                    views.insert(at, _level(level, tf))
            journal_levels.clear()
            limit = self.limit
            buys, sells = self.nearest[1], self.nearest[-1]
            if limit is None:
                self.tuples["liquidity"] = (*buys, *sells)
            else:
                self.tuples["liquidity"] = (*buys[:limit], *sells[:limit])

    def _reorder(self, role: str) -> None:
        rank = {id(book): k for k, book in enumerate(self.book_list)}
        views = self.zones[role]
        ordered = sorted(views.items(), key=lambda item: (item[0].confirm_index,
                                                          rank[id(book_of(self, item[0]))], item[0].seq))
        self.zones[role] = dict(ordered)
        self.tuples[role] = tuple(self.zones[role].values())


def book_of(frame: TimeframeState, zone: ZoneState) -> ZoneBook:
    for _, _, blocks in frame.engine.streams:
        if blocks.name == zone.fields.get("stream"):
            return blocks.book
    return frame.engine.fvg.book


_KIND = {"fvg": "fvg", "ifvg": "ifvg", "ob": "order_block", "breaker": "breaker"}


def _zone_view(zone: ZoneState, tf: str) -> Zone:
    cached = zone.view
    if cached is not None and cached[0] == zone.changes:
        return cached[1]  # type: ignore[no-any-return]
    fields = zone.fields
    extra = {**fields, "mid_hit": zone.mid_hit, "filled": zone.filled, "anchor_index": zone.anchor_index,
             "confirm_index": zone.confirm_index, "stream": fields.get("stream"),
             # §10 finer timing on the base timeframe
             "base_touched_time": zone.base_touch or None, "base_closed_through_time": zone.base_break or None}
    view = Zone(zone.id, _KIND[zone.role], zone.direction, tf, zone.top, zone.bottom, zone.anchor_time,
                zone.confirm_time, zone.touched, extra)
    zone.view = (zone.changes, view)
    return view


def _level(level: Level, tf: str) -> LiquidityLevel:
    cached = level.view
    if isinstance(cached, LiquidityLevel) and cached.level == level.level:
        return cached
    side = "high" if level.side > 0 else "low"
    if level.source == "pool" and level.parent_id:
        level_id = level.parent_id
    elif level.parent_id:
        level_id = f"{level.parent_id}:{side}"
    else:
        level_id = f"{tf}:{level.source}:{side}:{level.anchor_time}:{level.confirm_time}"
    view = LiquidityLevel(level_id, level.side, level.level, level.source, tf, level.confirm_time)
    level.view = view
    return view
