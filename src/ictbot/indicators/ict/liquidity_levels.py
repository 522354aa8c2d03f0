"""Liquidity levels as objects near price and packed into numpy rows far from it (ict-spec §5).

A level stays alive until price takes it, so in a trending market the far side collects levels that
are never taken (≈ 9 a day per symbol on the soak's random walk). As an object each costs ≈ 0.9 kB
(the ``Level``, its sort key, its heap entry, the ``alive`` entry and the snapshot mirror with its
view); packed it costs one row of 72 bytes plus its parent event id. Buy-side levels are taken in
ascending price order and sell-side levels in descending order, so a level deep in its side can only
be reached after every nearer one: ``LiquidityIndicator`` keeps at least ``near`` levels per side as
objects in front of the packed ones (``revive_near``), packs the side down to 2 x ``near`` objects
when it holds 3 x ``near`` (``pack_far``) and revives packed rows into equal ``Level`` objects when
price reaches them. No event changes: the rows keep every field an event or a snapshot reads.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ictbot.indicators.ict.sessions import WINDOWS

if TYPE_CHECKING:
    from ictbot.indicators.ict.liquidity import LiquidityIndicator, Pool

SOURCE_RANK = {"swing": 0, "pool": 1, "day": 2, "week": 3, "month": 4}
SOURCE_RANK.update({w.id: 5 + k for k, w in enumerate(WINDOWS)})
_SOURCE_OF_RANK = [source for source, _ in sorted(SOURCE_RANK.items(), key=lambda item: item[1])]
# Alive levels kept as objects per side in front of the packed ones: a snapshot shows at most its
# ``liquidity_limit`` nearest per side (25 by default), which must be objects (TimeframeState raises
# ``near`` to its limit).
NEAR_LEVELS = 32

# columns of ``ColdSide.ints``
_SEQ, _ANCHOR_INDEX, _ANCHOR_TIME, _CONFIRM_INDEX, _CONFIRM_TIME, _SOURCE, _ORDER = range(7)
_INT_COLUMNS = 7


class Level:
    """One resting level; sort key = (confirm index, source rank, buy-side first, creation seq)."""

    __slots__ = (
        "alive",
        "anchor_index",
        "anchor_time",
        "confirm_index",
        "confirm_time",
        "exc_limit",
        "excursion",
        "key",
        "level",
        "order",
        "parent_id",
        "side",
        "source",
        "taken_index",
        "version",
        "view",
    )

    def __init__(self, side: int, level: float, source: str, anchor_index: int, anchor_time: int,
                 confirm_index: int, confirm_time: int, parent_id: str | None, seq: int) -> None:
        self.side = side
        self.confirm_time = confirm_time
        self.level = level
        self.source = source
        self.anchor_index = anchor_index
        self.anchor_time = anchor_time
        self.confirm_index = confirm_index
        self.parent_id = parent_id
        self.key = (confirm_index, SOURCE_RANK[source], 0 if side > 0 else 1, seq)
        self.alive = True
        self.taken_index = -1
        self.excursion = 0.0
        self.exc_limit = float("nan")
        self.version = 0
        self.view: object = None  # cached read-only copy for snapshots
        self.order = -1  # when it first became testable (``alive_levels`` order), kept when packed


class ColdSide:
    """One side's packed levels sorted nearest first by (heap key, creation seq), as the side's heap.

    The heap key is the price for buy-side levels and minus the price for sell-side ones, so "key below
    a threshold" is "reached by price" on both sides."""

    __slots__ = ("ints", "keys", "parents", "side")

    def __init__(self, side: int) -> None:
        self.side = side
        self.keys: npt.NDArray[np.float64] = np.empty(0, np.float64)
        self.ints: npt.NDArray[np.int64] = np.empty((0, _INT_COLUMNS), np.int64)
        self.parents: npt.NDArray[np.object_] = np.empty(0, object)  # parent event id or None

    def __len__(self) -> int:
        return len(self.keys)

    def head(self) -> tuple[float, int]:
        """(key, seq) of the nearest packed level; (inf, 0) when there is none."""
        if not len(self.keys):
            return (float("inf"), 0)
        return (float(self.keys[0]), int(self.ints[0, _SEQ]))

    def add(self, levels: list[Level]) -> None:
        """Pack ``levels`` (alive, of this side) and merge them into the sorted rows."""
        if not levels:
            return
        sign = 1.0 if self.side > 0 else -1.0
        keys = np.array([sign * level.level for level in levels], np.float64)
        ints = np.array([(level.key[3], level.anchor_index, level.anchor_time, level.confirm_index,
                          level.confirm_time, SOURCE_RANK[level.source], level.order) for level in levels], np.int64)
        parents = np.empty(len(levels), object)
        parents[:] = [level.parent_id for level in levels]
        all_keys = np.concatenate((self.keys, keys))
        all_ints = np.concatenate((self.ints, ints))
        order = np.lexsort((all_ints[:, _SEQ], all_keys))  # by key, ties by creation seq (unique)
        self.keys = all_keys[order]
        self.ints = all_ints[order]
        self.parents = np.concatenate((self.parents, parents))[order]

    def reached(self, threshold: float) -> int:
        """How many packed levels have a heap key below ``threshold`` (price went beyond them)."""
        return int(np.searchsorted(self.keys, threshold, side="left")) if len(self.keys) else 0

    def pop_nearest(self, count: int) -> list[Level]:
        """Remove the ``count`` nearest rows and return them as ``Level`` objects (version 0: not pushed)."""
        count = min(count, len(self.keys))
        revived = self.rows(0, count)
        # copies, so the rows left do not keep the old arrays alive
        self.keys = self.keys[count:].copy()
        self.ints = self.ints[count:].copy()
        self.parents = self.parents[count:].copy()
        return revived

    def remove(self, row: int) -> Level:
        """Remove row ``row`` and return it as a ``Level`` object (version 0: not pushed)."""
        level = self.rows(row, row + 1)[0]
        self.keys = np.delete(self.keys, row)
        self.ints = np.delete(self.ints, row, axis=0)
        self.parents = np.delete(self.parents, row)
        return level

    def rows(self, start: int, stop: int) -> list[Level]:
        """Rows ``start:stop`` as new ``Level`` objects equal to the packed ones, the rows left in place."""
        sign = 1.0 if self.side > 0 else -1.0
        out: list[Level] = []
        for key, row, parent in zip(self.keys[start:stop].tolist(), self.ints[start:stop].tolist(),
                                    self.parents[start:stop].tolist(), strict=True):
            level = Level(self.side, sign * key, _SOURCE_OF_RANK[row[_SOURCE]], row[_ANCHOR_INDEX],
                          row[_ANCHOR_TIME], row[_CONFIRM_INDEX], row[_CONFIRM_TIME], parent, row[_SEQ])
            level.order = row[_ORDER]
            out.append(level)
        return out


def pack_far(indicator: LiquidityIndicator, side: int) -> None:
    """Pack the side's alive levels beyond its 2 x ``near`` nearest. A pool that can still be extended
    (``SideSearch.last_member`` holds it) forgets its packed level object and keeps its seq."""
    near = indicator.near
    assert near is not None
    live = sorted(entry for entry in indicator.side_heaps[side] if entry[3].alive and entry[3].version == entry[2])
    hot = live[:2 * near]
    packed: list[Level] = []
    search = indicator.highs if side > 0 else indicator.lows
    extendable = {pool.event_id: pool for pool in search.last_member.values()}
    for entry in live[2 * near:]:
        level = entry[3]
        pool = extendable.get(level.parent_id) if level.source == "pool" else None  # type: ignore[arg-type]
        if pool is not None and pool.level is level:
            pool.level = None  # revived by ``revive_pool`` if the pool is extended
            pool.packed_seq = level.key[3]
        packed.append(level)
        del indicator.alive[level]
        level.alive = False  # this object is dropped: the snapshot mirror removes it when it reads the journal
        if indicator.journal is not None:
            indicator.journal.append(level)
    heapq.heapify(hot)
    indicator.side_heaps[side] = hot
    indicator.hot_count[side] = len(hot)
    indicator.pack_at[side] = len(hot) + near
    indicator.cold[side].add(packed)
    indicator.version += 1


def revive_near(indicator: LiquidityIndicator, side: int) -> None:
    """Revive packed levels until ``near`` objects are in front of the nearest packed one again.

    Called after levels were taken and after a pool level moved away: with ``near`` alive objects
    ahead, price reaches the heap's head before any packed level, and a snapshot's nearest levels
    are objects."""
    cold = indicator.cold[side]
    near = indicator.near
    if near is None or not len(cold):
        return
    head = cold.head()
    ahead = 0
    for key, seq, version, level in indicator.side_heaps[side]:
        if level.alive and level.version == version and (key, seq) < head:
            ahead += 1
    if ahead < near:
        for level in cold.pop_nearest(2 * near - ahead):
            indicator.push(level)


def revive_pool(indicator: LiquidityIndicator, pool: Pool) -> None:
    """Give ``pool`` back its level object before an extension moves it: the object ``revive_near``
    made of it if that is alive, else revived from the packed rows; if price took it since,
    ``pool.level`` stays None (the pool cannot be extended, as with a taken level)."""
    side = pool.side
    seq = pool.packed_seq
    pool.packed_seq = -1
    for _, entry_seq, version, level in indicator.side_heaps[side]:
        if entry_seq == seq and level.alive and level.version == version:
            pool.level = level
            return
    cold = indicator.cold[side]
    rows = np.flatnonzero(cold.ints[:, _SEQ] == seq)
    if not len(rows):
        return
    level = cold.remove(int(rows[0]))
    indicator.pack_at[pool.side] += 1  # this push must not pack it again before the extension moves it
    indicator.push(level)
    pool.level = level
