"""Active price zones with amortised O(log Z) lifecycle tests (ict-spec §3, §4, §11).

A zone of direction +1 can only change state when price comes *down* into it (every bullish rule
needs ``l[j] <= threshold``), a zone of direction −1 only when price comes *up*. Each zone keeps a
``threshold`` = the highest (lowest) price at which its next pending rule can fire; active zones sit in
one heap per direction, so a candle only visits the zones it can affect. Stale heap entries are
skipped lazily (``version``).
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any


class ZoneState:
    """A zone's mutable lifecycle state inside its indicator engine (heap threshold, touches, version);
    strategies see it as the read-only ``domain.ict.Zone`` view built from it."""

    __slots__ = ("alive", "anchor_index", "anchor_time", "base_break", "base_touch", "bottom", "changes",
                 "confirm_index", "confirm_time", "direction",
                 "fields", "filled", "id", "kind", "mid", "mid_hit", "role", "seq", "threshold", "top", "touched",
                 "version", "view")

    def __init__(self, role: str, direction: int, top: float, bottom: float, mid: float, anchor_index: int,
                 anchor_time: int, confirm_index: int, confirm_time: int, event_id: str,
                 fields: dict[str, Any]) -> None:
        self.role = role
        self.direction = direction
        self.top = top
        self.bottom = bottom
        self.mid = mid
        self.anchor_index = anchor_index
        self.anchor_time = anchor_time
        self.confirm_index = confirm_index
        self.confirm_time = confirm_time
        self.view: Any = None  # cached read-only copy for snapshots (rebuilt when the state changes)
        self.id = event_id
        self.fields = fields
        self.seq = -1
        self.alive = True
        self.touched = False
        self.changes = 0  # bumped on every state change (snapshot caches compare it)
        # §10: for a higher-timeframe zone, close times of the first base candle touching / closing
        # through it (0 = not yet); filled by the multi-timeframe engine, never by the zone's own engine
        self.base_touch = 0
        self.base_break = 0
        self.mid_hit = False
        self.filled = False
        self.threshold = top if direction > 0 else bottom
        self.version = 0
        self.kind = role


class ZoneBook:
    """Active zones of one indicator, per direction, with capacity and optional age limit."""

    __slots__ = ("_expiry", "_order", "_seq", "active", "down", "excess", "journal", "max_active", "max_age", "up",
                 "version")

    def __init__(self, max_active: int | None, max_age: int | None) -> None:
        self.max_active = max_active
        self.max_age = max_age
        self._seq = 0
        # direction +1 zones react to price coming down: max-heap on threshold (stored negated); callers
        # read the heap heads to skip ``candidates`` on the (common) candles where nothing can fire
        self.down: list[tuple[float, int, int, ZoneState]] = []
        self.up: list[tuple[float, int, int, ZoneState]] = []
        self.excess = False  # more active zones than ``max_active`` on a side: ``overflow`` has work
        self._order: dict[int, deque[ZoneState]] = {1: deque(), -1: deque()}
        self._expiry: deque[ZoneState] = deque()
        self.active: dict[int, int] = {1: 0, -1: 0}
        self.version = 0
        # zones added / changed / killed since the consumer last read it (None = nobody listens)
        self.journal: list[ZoneState] | None = None

    def note(self, zone: ZoneState) -> None:
        """Record a state change for a listening snapshot builder."""
        self.version += 1
        if self.journal is not None:
            self.journal.append(zone)

    def add(self, zone: ZoneState, expires: bool = True) -> None:
        zone.seq = seq = self._seq
        self._seq = seq + 1
        direction = zone.direction
        self._order[direction].append(zone)
        active = self.active
        active[direction] += 1
        if self.max_active is not None and active[direction] > self.max_active:
            self.excess = True
        if expires and self.max_age is not None:
            self._expiry.append(zone)
        # push and note, inlined
        zone.version += 1
        if direction > 0:
            heapq.heappush(self.down, (-zone.threshold, seq, zone.version, zone))
        else:
            heapq.heappush(self.up, (zone.threshold, seq, zone.version, zone))
        self.version += 1
        if self.journal is not None:
            self.journal.append(zone)

    def push(self, zone: ZoneState) -> None:
        zone.version += 1
        if zone.direction > 0:
            heapq.heappush(self.down, (-zone.threshold, zone.seq, zone.version, zone))
        else:
            heapq.heappush(self.up, (zone.threshold, zone.seq, zone.version, zone))

    def requeue(self, zone: ZoneState, changed: bool) -> None:
        """``note`` (when ``changed``) and ``push`` in one call: a zone tested on a candle goes back on
        its heap (the lifecycle steps of FVGs and order blocks run this for every zone they test)."""
        if changed:
            self.version += 1
            if self.journal is not None:
                self.journal.append(zone)
        zone.version += 1
        if zone.direction > 0:
            heapq.heappush(self.down, (-zone.threshold, zone.seq, zone.version, zone))
        else:
            heapq.heappush(self.up, (zone.threshold, zone.seq, zone.version, zone))

    def kill(self, zone: ZoneState) -> None:
        zone.alive = False
        self.active[zone.direction] -= 1
        self.version += 1
        if self.journal is not None:
            self.journal.append(zone)

    def candidates(self, j: int, high: float, low: float) -> list[ZoneState]:
        """Zones whose next rule may fire on this candle (price reached a threshold or age ran out).

        Returned in creation order and removed from the heaps; the caller re-``push``es survivors.
        """
        down = self.down
        up = self.up
        if (not down or -down[0][0] < low) and (not up or up[0][0] > high) and (
                self.max_age is None or not self._expiry or self._expiry[0].confirm_index + self.max_age > j):
            return _NONE  # nothing can fire on this candle (the common case)
        found: list[ZoneState] = []
        while down and -down[0][0] >= low:
            _, _, version, zone = heapq.heappop(down)
            if zone.alive and zone.version == version:
                zone.version += 1  # invalidate any duplicate entry
                found.append(zone)
        while up and up[0][0] <= high:
            _, _, version, zone = heapq.heappop(up)
            if zone.alive and zone.version == version:
                zone.version += 1
                found.append(zone)
        if self.max_age is not None:
            expiry = self._expiry
            limit = self.max_age
            while expiry and expiry[0].confirm_index + limit <= j:
                zone = expiry.popleft()
                if zone.alive and zone.confirm_index + limit == j and zone not in found:
                    found.append(zone)
        if len(found) > 1:
            found.sort(key=_seq_of)
        return found

    def overflow(self) -> list[ZoneState]:
        """Oldest zones beyond ``max_active`` per direction (not yet killed), oldest first."""
        self.excess = False
        cap = self.max_active
        if cap is None or (self.active[1] <= cap and self.active[-1] <= cap):
            return []
        out: list[ZoneState] = []
        for direction in (1, -1):
            excess = self.active[direction] - cap
            order = self._order[direction]
            while excess > 0:
                zone = order.popleft()
                if zone.alive:
                    out.append(zone)
                    excess -= 1
        if len(out) > 1:
            out.sort(key=_seq_of)
        return out

    def alive(self, direction: int) -> list[ZoneState]:
        order = self._order[direction]
        while order and not order[0].alive:
            order.popleft()
        return [zone for zone in order if zone.alive]

    def compact(self) -> None:
        """Drop dead zones from the creation-order queues and heaps (keeps memory bounded).

        The owner calls it every 64 candles; it never changes which zones fire or in which order (heap
        keys are unique), only memory.
        """
        for direction in (1, -1):
            order = self._order[direction]
            if len(order) > 2 * (self.active[direction] + 16):
                self._order[direction] = deque(zone for zone in order if zone.alive)
        limit = 4 * (self.active[1] + self.active[-1]) + 64
        if len(self.down) > limit:
            self.down = [e for e in self.down if e[3].alive and e[3].version == e[2]]
            heapq.heapify(self.down)
        if len(self.up) > limit:
            self.up = [e for e in self.up if e[3].alive and e[3].version == e[2]]
            heapq.heapify(self.up)


_NONE: list[ZoneState] = []  # shared empty result: callers only iterate it


def _seq_of(zone: ZoneState) -> int:
    return zone.seq
