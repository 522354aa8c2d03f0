"""The level book of the liquidity kernel (ict-spec §5): levels, their versions and the taking heaps.

A level is a row (index = creation order, ``seq`` = index + 1). It becomes testable at a price with a
new version (a ``ver_i`` / ``ver_f`` row: level, first candle, end candle, price — the snapshot replay's
table); per side a lazy-deletion heap keyed by the price at which the level is taken (buy side: min-heap
on the price, taken by a higher high; sell side: min-heap on −price, taken by a lower low). Every push
comes with a version row, so heaps sized like the version table never grow. Counters: ``L_*`` columns of
one int64 array (helpers update them in place).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import heap_push, put
from ictbot.indicators.kernels.codes import F0, I0, I1, R0

NAN = np.nan

LevelBook = namedtuple("LevelBook", [
    "side", "price", "src", "anchor", "atime", "confirm", "parent",  # fixed at creation (price: per version)
    "alive", "taken", "exc", "limit", "ver", "cur",  # taking, excursion, current version row
    "ver_i", "ver_f",  # version table
    "buy_key", "buy_seq", "buy_ver", "sell_key", "sell_seq", "sell_ver",  # taking heaps
])

L_LEVELS, L_VERSIONS, L_BUY_SIZE, L_SELL_SIZE = range(4)


@jit
def new_levels(cap, versions):  # type: ignore[no-untyped-def]
    """An empty book for ``cap`` levels and ``versions`` versions, and its counters."""
    book = LevelBook(np.empty(cap, np.int64), np.empty(cap, np.float64), np.empty(cap, np.int64),
                     np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64),
                     np.empty(cap, np.int64), np.empty(cap, np.bool_), np.empty(cap, np.int64),
                     np.empty(cap, np.float64), np.empty(cap, np.float64), np.empty(cap, np.int64),
                     np.full(cap, -1, np.int64), np.empty((versions, 3), np.int64), np.empty(versions, np.float64),
                     np.empty(versions, np.float64), np.empty(versions, np.int64), np.empty(versions, np.int64),
                     np.empty(versions, np.float64), np.empty(versions, np.int64), np.empty(versions, np.int64))
    return book, np.zeros(4, np.int64)


@rule
def new_level(lb, lc, side, price, src, anchor, atime, confirm, parent):  # type: ignore[no-untyped-def]
    """A new alive level, not testable yet (version 0); returns its number."""
    v = lc[L_LEVELS]
    lc[L_LEVELS] = v + 1
    if v + 1 >= lb.side.shape[0]:
        raise ValueError("liquidity level capacity")
    lb.side[v] = side
    lb.price[v] = price
    lb.src[v] = src
    lb.anchor[v] = anchor
    lb.atime[v] = atime
    lb.confirm[v] = confirm
    lb.parent[v] = parent
    lb.ver[v] = 0
    lb.alive[v] = True
    return v


@rule
def make_testable(lb, lc, v, i):  # type: ignore[no-untyped-def]
    """Level ``v`` can be taken at ``lb.price[v]`` from candle ``i`` on: a new version (the previous
    version row ends at ``i``), pushed on its side's heap."""
    lb.ver[v] += 1
    lb.alive[v] = True
    row = lc[L_VERSIONS]
    prev = lb.cur[v]
    if prev >= 0:
        lb.ver_i[prev, 2] = i
    lb.ver_i[row, 0] = v
    lb.ver_i[row, 1] = i
    lb.ver_i[row, 2] = -1
    lb.ver_f[row] = lb.price[v]
    lb.cur[v] = row
    lc[L_VERSIONS] = row + 1
    if lb.side[v] > 0:
        lc[L_BUY_SIZE] = heap_push(lb.buy_key, lb.buy_seq, lb.buy_ver, lc[L_BUY_SIZE], lb.price[v], v + 1, lb.ver[v])
    else:
        lc[L_SELL_SIZE] = heap_push(lb.sell_key, lb.sell_seq, lb.sell_ver, lc[L_SELL_SIZE], -lb.price[v], v + 1,
                                    lb.ver[v])


@rule
def level_event(ev_i, ev_f, r, kind, v, j, lb, excursion):  # type: ignore[no-untyped-def]
    """Row ``r`` (the caller made room): ``kind`` of level ``v`` at candle ``j``; returns r + 1."""
    put(ev_i, ev_f, r, kind, lb.side[v], lb.src[v], lb.anchor[v], j, NAN, NAN, lb.price[v])
    ev_i[r, I0] = lb.confirm[v]
    ev_i[r, I1] = lb.taken[v]
    ev_i[r, R0] = lb.parent[v]
    ev_f[r, F0] = excursion
    return r + 1


@jit
def level_table(lb, lc):  # type: ignore[no-untyped-def]
    """Per level: side, source, anchor time, confirm index, parent ref; and the version rows."""
    nlev = lc[L_LEVELS]
    levels = np.empty((nlev, 5), np.int64)
    levels[:, 0] = lb.side[:nlev]
    levels[:, 1] = lb.src[:nlev]
    levels[:, 2] = lb.atime[:nlev]
    levels[:, 3] = lb.confirm[:nlev]
    levels[:, 4] = lb.parent[:nlev]
    return levels, lb.ver_i[:lc[L_VERSIONS]].copy(), lb.ver_f[:lc[L_VERSIONS]].copy()
