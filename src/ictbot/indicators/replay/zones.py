"""Live zone tuples of a ``TimeframeView`` (fvgs, ifvgs, order blocks, breakers) replayed from kernel rows.

The definition is the streaming engine: ``frames.TimeframeState.sync`` / ``_zone_view`` over the zone
books of ``ict/fvg.py`` and ``ict/order_blocks.py``, and for a higher timeframe ``BaseTracker`` as fed
by ``MultiTimeframeEngine._feed`` (ict-spec §10). A zone is in a view from the candle of its creation
event until the candle of its killing event (invalidated / expired / evicted); its flags follow its
lifecycle events; tuples are in creation (log) order, which is the canonical order of ``frames``
(candle, then fvg book, internal-stream book, swing-stream book, then creation within the book).

A higher timeframe's ``base_touched_time`` / ``base_closed_through_time`` come from a vectorised
first-crossing search over the base candles (``zones_base``), done once for every zone; it ignores the
zone's death, which is exact for every zone still shown (an HTF zone killed at candle k is gone from
views from base candle ``delivery[k]`` on, so ``at`` with consistent indexes never shows it).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.ict import LazyTuple, Zone
from ictbot.indicators.replay.rows import EventRows
from ictbot.indicators.replay.zones_base import (
    NEVER,
    ROLE_KIND,
    ROLES,
    MinTree,
    base_crossings,
    lifecycles,
    zone_facts,
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BaseCandles:
    """Base-timeframe candles (all of them) and, per candle ``k`` of one higher timeframe, the base index
    ``delivery[k]`` just before which that HTF candle is stepped (as ``backtest.ict`` delivers it)."""

    close_time: I64
    high: F64
    low: F64
    close: F64
    delivery: I64


class ZoneReplay:
    """``TimeframeView.fvgs / ifvgs / order_blocks / breakers`` of one timeframe at chosen candles.

    Zones are numbered in creation (log) order. Between two calls only the windows of the creation, kill,
    lifecycle and base-candle change streams that the calls span are read (numpy slices); a ``Zone``
    record is built for a zone when it first shows and rebuilt only when its visible state changes.
    """

    def __init__(self, rows: EventRows, base: BaseCandles | None = None) -> None:
        """``base`` None: this is the base timeframe (no base-candle tracking)."""
        self.rows = rows
        self.base = base
        life = lifecycles(rows)
        count = life.row.shape[0]
        if base is None:
            base_touch = base_break = np.full(count, NEVER, np.int64)
        else:
            # tracked from the base candle after the one the creating HTF candle was delivered before (§10)
            start = base.delivery[life.confirm] + 1
            trees = (MinTree(base.low), MinTree(-base.high), MinTree(base.close), MinTree(-base.close))
            base_touch, base_break = base_crossings(life, start, *trees)
        self._close_time = np.empty(0, np.int64) if base is None else base.close_time
        self._facts, self._prices = zone_facts(rows, life)
        self._kill: I64 = life.kill
        self._confirm: list[int] = life.confirm.tolist()
        # per zone, read one at a time when its state code is computed
        self._role: list[int] = life.role.tolist()
        self._touch: list[int] = life.touch.tolist()
        self._mid: list[int] = life.mid.tolist()
        self._fill: list[int] = life.fill.tolist()
        self._base_touch: list[int] = base_touch.tolist()
        self._base_break: list[int] = base_break.tolist()
        # change streams: (candle, zone) in candle order
        killed = np.flatnonzero(life.kill < NEVER)
        order = killed[np.argsort(life.kill[killed], kind="stable")]
        self._kill_at: list[int] = life.kill[order].tolist()
        self._kill_zone: I64 = order
        self._change_at: list[int] = life.change_confirm.tolist()
        self._change_zone: I64 = life.change_zone
        base_j = np.concatenate([base_touch, base_break])
        which = np.concatenate([np.arange(count), np.arange(count)])
        tracked = np.flatnonzero(base_j < NEVER)
        order = tracked[np.argsort(base_j[tracked], kind="stable")]
        self._base_at: list[int] = base_j[order].tolist()
        self._base_zone: I64 = which[order]
        # cursor
        self._created = 0  # zones created up to the last index
        self._kills = self._changes = self._base_changes = 0  # stream positions read
        self._codes: list[int] = [-1] * count  # state code of each zone as last shown
        self._fixed: list[Any] = [None] * count  # ``_fixed_part`` of each zone shown so far
        self._records: dict[int, Zone] = {}  # zone << 5 | state code -> its record, built when first read
        self._alive: tuple[dict[int, int], ...] = tuple({} for _ in ROLES)  # zone -> state code, creation order
        self._last = (-1, -1)
        self._result: dict[str, Sequence[Zone]] = {role: () for role in ROLES}

    def at(self, index: int, base_index: int) -> dict[str, Sequence[Zone]]:
        """The zone tuples after this timeframe's candle ``index`` (and, for a higher timeframe, base candle
        ``base_index``), keyed "fvg", "ifvg", "ob", "breaker"; ``index`` and ``base_index`` must not decrease
        from call to call. The dict is shared with later calls while nothing changes: do not modify it."""
        last = self._last
        if index < last[0] or base_index < last[1]:
            raise ValueError(f"zone replay went back: {(index, base_index)} after {last}")
        if index == last[0] and base_index == last[1]:
            return self._result
        self._last = (index, base_index)
        kill = self._kill
        old = self._created
        created = bisect.bisect_right(self._confirm, index)
        dirty: list[int] = []
        changed = [False] * len(ROLES)
        if created > old:
            self._created = created
            dirty = (np.flatnonzero(kill[old:created] > index) + old).tolist()  # the new zones still alive
        end = bisect.bisect_right(self._kill_at, index)
        if end > self._kills:
            zones = self._kill_zone[self._kills:end]
            self._kills = end
            role, alive = self._role, self._alive
            for z in zones[zones < old].tolist():  # shown until now
                r = role[z]
                del alive[r][z]
                changed[r] = True
        end = bisect.bisect_right(self._change_at, index)
        if end > self._changes:
            zones = self._change_zone[self._changes:end]
            self._changes = end
            dirty += zones[(zones < old) & (kill[zones] > index)].tolist()
        end = bisect.bisect_right(self._base_at, base_index)
        if end > self._base_changes:
            zones = self._base_zone[self._base_changes:end]
            self._base_changes = end
            dirty += zones[(zones < created) & (kill[zones] > index)].tolist()
        if dirty:
            self._rebuild(dirty, index, base_index, changed)
        if True in changed:
            tuples = self._result.copy()
            for r, name in enumerate(ROLES):
                if changed[r]:
                    # the (zone, state) pairs now; records are built only if the tuple is read
                    tuples[name] = _Zones(self._record, tuple(self._alive[r].items()))
            self._result = tuples
        return self._result

    def _record(self, z: int, code: int) -> Zone:
        key = z << 5 | code
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = self._zone(z, self._role[z], code)
        return record

    def _rebuild(self, zones: list[int], index: int, base_index: int, changed: list[bool]) -> None:
        """(Re)build the records of ``zones`` whose state code changed; new zones come first, ascending, so
        each role's dict stays in creation order."""
        codes, role, alive = self._codes, self._role, self._alive
        touch, mid, fill = self._touch, self._mid, self._fill
        base_touch, base_break = self._base_touch, self._base_break
        for z in zones:
            code = ((touch[z] <= index) | (mid[z] <= index) << 1 | (fill[z] <= index) << 2
                    | (base_touch[z] <= base_index) << 3 | (base_break[z] <= base_index) << 4)
            if code != codes[z]:
                codes[z] = code
                r = role[z]
                alive[r][z] = code
                changed[r] = True

    def _zone(self, z: int, r: int, code: int) -> Zone:
        """``frames._zone_view`` of zone ``z`` in state ``code`` (touched, mid_hit, filled, base flags)."""
        fixed = self._fixed[z]
        if fixed is None:
            fixed = self._fixed[z] = self._fixed_part(z, r)
        zone_id, direction, top, bottom, anchor_time, confirm_time, blank = fixed
        extra = blank.copy()
        if code & 2:
            extra["mid_hit"] = True
        if code & 4:
            extra["filled"] = True
        if code & 8:
            extra["base_touched_time"] = self._close_time.item(self._base_touch[z])
        if code & 16:
            extra["base_closed_through_time"] = self._close_time.item(self._base_break[z])
        return Zone(zone_id, ROLE_KIND[r], direction, self.rows.tf, top, bottom, anchor_time, confirm_time,
                    bool(code & 1), extra)

    def _fixed_part(self, z: int, r: int) -> tuple[Any, ...]:
        """What never changes in the records of zone ``z``: its creation event's id, prices, times, and its
        ``extra`` in the initial state (no flag set): the creation event's fields (a zone carries those of
        the event that created it) plus the lifecycle keys of ``frames._zone_view``."""
        g, anchor_time, confirm_time, anchor, confirm, direction = self._facts[z].tolist()
        top, bottom = self._prices[z].tolist()
        fields = self.rows.fields(g)
        blank = {**fields, "mid_hit": False, "filled": False, "anchor_index": anchor, "confirm_index": confirm,
                 "stream": fields.get("stream"), "base_touched_time": None, "base_closed_through_time": None}
        # ids cached in ``rows``: the frame replay's recent events share them
        return self.rows.event_id(g), direction, top, bottom, anchor_time, confirm_time, blank


class _Zones(LazyTuple[Zone]):
    """One role's zone tuple at one state: (zone, state code) pairs, records built when first read."""

    __slots__ = ("_pairs", "_record")

    def __init__(self, record: Callable[[int, int], Zone], pairs: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self._record = record
        self._pairs = pairs

    def _build(self) -> tuple[Zone, ...]:
        record = self._record
        return tuple([record(z, code) for z, code in self._pairs])

    def __len__(self) -> int:
        return len(self._pairs)
