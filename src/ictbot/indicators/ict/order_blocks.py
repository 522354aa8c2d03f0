"""Order blocks and breaker blocks per structure stream (ict-spec §4)."""

from __future__ import annotations

import bisect

from ictbot.indicators.core.zones import ZoneBook, ZoneState
from ictbot.indicators.events import Event, EventFactory
from ictbot.indicators.ict.structure import Break
from ictbot.indicators.params import OrderBlockParams


class OrderBlockIndicator:
    __slots__ = ("active_obs", "body", "book", "chochs", "mss_window", "name", "pending", "phash", "strict",
                 "swept", "taken", "wick_invalidation")

    def __init__(self, name: str, params: OrderBlockParams, phash: str) -> None:
        self.name = name
        self.phash = phash
        self.body = params.zone == "body"
        self.wick_invalidation = params.invalidation_source == "wick"
        self.book = ZoneBook(params.max_active, None)
        self.active_obs: dict[tuple[int, int], ZoneState] = {}
        # strict ICT breaker (breaker_requires_mss): sweep flag per OB, recent CHoCHs, breakers waiting for one
        self.strict = params.breaker_requires_mss
        self.mss_window = params.mss_window
        self.swept: dict[str, bool] = {}
        self.chochs: dict[int, list[int]] = {1: [], -1: []}
        self.pending: list[tuple[ZoneState, int]] = []
        self.taken: dict[int, list[int]] = {1: [], -1: []}

    def step(self, j: int, h: float, lo: float, c: float, breaks: list[Break], last_displacement: dict[int, int],
             last_fvg: dict[int, int], factory: EventFactory, out: list[Event],
             taken: dict[int, list[int]] | None = None) -> None:
        """``taken[side]``: ascending confirm indexes of ``liquidity_taken`` (strict breakers only)."""
        book = self.book
        if self.strict:
            self.taken = taken or self.taken
            for brk in breaks:
                if brk.event.kind == "choch":
                    history = self.chochs[brk.direction]
                    history.append(j)
                    if len(history) > 64:
                        del history[:32]
        down, up = book.down, book.up
        if (down and -down[0][0] >= lo) or (up and up[0][0] <= h):  # no age limit on order blocks
            for zone in book.candidates(j, h, lo):
                self._transition(zone, j, h, lo, c, factory, out)
        if self.pending:
            self._resolve_pending(j, breaks, factory, out)
        for brk in breaks:
            self._form(brk, j, last_displacement, last_fvg, factory, out)
        if book.excess:
            for zone in book.overflow():
                book.kill(zone)
                if zone.role == "ob":
                    self.active_obs.pop((zone.direction, zone.anchor_index), None)
                    self.swept.pop(zone.id, None)
                out.append(self._event("ob_evicted" if zone.role == "ob" else "breaker_evicted", zone, factory))

    def _form(self, brk: Break, j: int, last_displacement: dict[int, int], last_fvg: dict[int, int],
              factory: EventFactory, out: list[Event]) -> None:
        direction = brk.direction
        k, t, o, h, lo, c = brk.ob_candle
        if (direction, k) in self.active_obs:
            return
        top, bottom = (max(o, c), min(o, c)) if self.body else (h, lo)
        mt = (top + bottom) / 2.0
        fields = {"mt": mt, "stream": self.name, "break_id": brk.event.id, "swing_anchor_index": brk.swing_anchor,
                  "displacement": last_displacement[direction] >= k + 1, "has_fvg": last_fvg[direction] >= k + 2}
        event = factory.make("order_block", direction, self.name, k, t, self.phash, top=top, bottom=bottom,
                             fields=fields)
        out.append(event)
        zone = ZoneState("ob", direction, top, bottom, mt, k, t, j, event.confirm_time, event.id, fields)
        if self.strict:  # (a) liquidity on the OB's own side taken in [k + 1, i]
            confirms = self.taken[direction]
            at = bisect.bisect_left(confirms, k + 1)
            self.swept[event.id] = at < len(confirms) and confirms[at] <= j
        self.book.add(zone)
        self.active_obs[(direction, k)] = zone

    def _event(self, kind: str, zone: ZoneState, factory: EventFactory) -> Event:
        return factory.make(kind, zone.direction, self.name, zone.anchor_index, zone.anchor_time, self.phash,
                            top=zone.top, bottom=zone.bottom,
                            fields={"mt": zone.mid, "stream": self.name, "parent_id": zone.id})

    def _transition(self, zone: ZoneState, j: int, h: float, lo: float, c: float, factory: EventFactory,
                    out: list[Event]) -> None:
        book = self.book
        changes = zone.changes
        up = zone.direction > 0
        make = factory.make
        name = self.name
        phash = self.phash
        # lifecycle events carry the zone's values (``_event``, inlined)
        if zone.role == "ob":
            if not zone.touched and (lo <= zone.top if up else h >= zone.bottom):
                zone.touched = True
                zone.changes += 1
                out.append(make("ob_touched", zone.direction, name, zone.anchor_index, zone.anchor_time, phash,
                                zone.top, zone.bottom, None, {"mt": zone.mid, "stream": name, "parent_id": zone.id}))
            if not zone.mid_hit and (c < zone.mid if up else c > zone.mid):
                zone.mid_hit = True
                zone.changes += 1
                out.append(make("ob_mt_violated", zone.direction, name, zone.anchor_index, zone.anchor_time, phash,
                                zone.top, zone.bottom, None, {"mt": zone.mid, "stream": name, "parent_id": zone.id}))
            if up:
                broken = (lo if self.wick_invalidation else c) < zone.bottom
            else:
                broken = (h if self.wick_invalidation else c) > zone.top
            if broken:
                book.kill(zone)
                self.active_obs.pop((zone.direction, zone.anchor_index), None)
                out.append(make("ob_invalidated", zone.direction, name, zone.anchor_index, zone.anchor_time, phash,
                                zone.top, zone.bottom, None, {"mt": zone.mid, "stream": name, "parent_id": zone.id}))
                if not self.strict:
                    self._breaker(zone, j, factory, out)
                elif self.swept.pop(zone.id, False):
                    history = self.chochs[-zone.direction]
                    if history and history[-1] >= j - self.mss_window:  # (b) CHoCH already in [j − w, j]
                        self._breaker(zone, j, factory, out)
                    elif self.mss_window > 0:
                        self.pending.append((zone, j))
                return
            if up:
                zone.threshold = zone.top if not zone.touched else zone.mid if not zone.mid_hit else zone.bottom
            else:
                zone.threshold = zone.bottom if not zone.touched else zone.mid if not zone.mid_hit else zone.top
        else:
            if not zone.touched and (lo <= zone.top if up else h >= zone.bottom):
                zone.touched = True
                zone.changes += 1
                out.append(make("breaker_touched", zone.direction, name, zone.anchor_index, zone.anchor_time, phash,
                                zone.top, zone.bottom, None, {"mt": zone.mid, "stream": name, "parent_id": zone.id}))
            if c < zone.bottom if up else c > zone.top:
                book.kill(zone)
                out.append(make("breaker_invalidated", zone.direction, name, zone.anchor_index, zone.anchor_time, phash,
                                zone.top, zone.bottom, None, {"mt": zone.mid, "stream": name, "parent_id": zone.id}))
                return
            if up:
                zone.threshold = zone.top if not zone.touched else zone.bottom
            else:
                zone.threshold = zone.bottom if not zone.touched else zone.top
        book.requeue(zone, zone.changes != changes)

    def _resolve_pending(self, m: int, breaks: list[Break], factory: EventFactory, out: list[Event]) -> None:
        """Strict breakers waiting for a CHoCH of their direction until j + mss_window."""
        chochs = {brk.direction for brk in breaks if brk.event.kind == "choch"}
        still: list[tuple[ZoneState, int]] = []
        for zone, j in self.pending:
            if j == m:
                still.append((zone, j))  # invalidated on this very candle: handled from the next one
            elif m > j + self.mss_window:
                continue  # no CHoCH by j + mss_window: no breaker
            elif -zone.direction in chochs:
                self._breaker(zone, m, factory, out)
            elif m < j + self.mss_window:
                still.append((zone, j))
        self.pending = still

    def _breaker(self, parent: ZoneState, j: int, factory: EventFactory, out: list[Event]) -> None:
        direction = -parent.direction
        fields = {"mt": parent.mid, "stream": self.name, "parent_id": parent.id}
        event = factory.make("breaker", direction, self.name, parent.anchor_index, parent.anchor_time, self.phash,
                             top=parent.top, bottom=parent.bottom, fields=fields)
        out.append(event)
        zone = ZoneState("breaker", direction, parent.top, parent.bottom, parent.mid, parent.anchor_index,
                    parent.anchor_time, j, event.confirm_time, event.id, fields)
        self.book.add(zone)
