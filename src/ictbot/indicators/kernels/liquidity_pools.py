"""Raw swing levels and equal highs / lows pools of the liquidity kernel (ict-spec §5).

Raw pivots (§1 fractals of the liquidity ``left`` / ``right``) per side are kept with the extreme of the
candles between each one and the next (``seg``), so the equal-level search can stop at a more extreme
candle in between. One helper per rule:

* ``track_lag`` / ``_record_pivot`` — the segment extremes between consecutive raw pivots;
* ``_equal_level_match`` — the nearest earlier pivot within tolerance, not blocked by a more extreme
  candle (tolerance = max(k_atr × ATR, k_bps × price));
* ``_join_pool`` — a match extends the pool of the matched pivot (while its level is alive) or opens a
  pool of the two; ``_pool_event`` — ``liquidity_pool`` / ``liquidity_pool_extended`` with the members;
* ``_pool_level`` — the pool's level (source ``pool``), re-priced when an extension moves the extreme;
* ``pivot_liquidity`` — the above for the pivots confirmed at a candle, with their ``swing`` levels.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import put
from ictbot.indicators.kernels.codes import (
    F0,
    I0,
    I1,
    K_LIQUIDITY_POOL,
    K_LIQUIDITY_POOL_EXTENDED,
    R0,
    T_NONE,
    T_POOL,
    T_SWING,
)
from ictbot.indicators.kernels.liquidity_levels import make_testable, new_level

Pools = namedtuple("Pools", [
    "rec_anchor", "rec_level", "rec_seg", "rec_pool", "nrec", "lag",  # raw pivots per side (row 0 high, 1 low)
    "head", "tail", "count", "level", "event",  # pools: member list, level (−1 none), creating event
    "node_idx", "node_val", "node_next",  # member nodes (linked lists)
])
P_POOLS, P_NODES = range(2)


@jit
def new_pools(cap, nodes):  # type: ignore[no-untyped-def]
    """Empty pivot records and pools (``nodes``: two per pivot and side bound the member nodes)."""
    pools = Pools(np.empty((2, cap), np.int64), np.empty((2, cap), np.float64), np.empty((2, cap), np.float64),
                  np.empty((2, cap), np.int64), np.zeros(2, np.int64), np.array([-np.inf, np.inf]),
                  np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64),
                  np.empty(cap, np.int64), np.empty(nodes, np.int64), np.empty(nodes, np.float64),
                  np.empty(nodes, np.int64))
    return pools, np.zeros(2, np.int64)


@rule
def track_lag(p, h, lo, lag_index):  # type: ignore[no-untyped-def]
    """The candle leaving the pivot window extends the running extreme after the last raw pivot."""
    if lag_index < 0:
        return
    if p.nrec[0] > 0 and lag_index > p.rec_anchor[0, p.nrec[0] - 1] and h[lag_index] > p.lag[0]:
        p.lag[0] = h[lag_index]
    if p.nrec[1] > 0 and lag_index > p.rec_anchor[1, p.nrec[1] - 1] and lo[lag_index] < p.lag[1]:
        p.lag[1] = lo[lag_index]


@rule
def _record_pivot(p, sd, side, pivot, price, i, h, lo):  # type: ignore[no-untyped-def]
    """Record raw pivot ``pivot`` of ``side``: closes the previous record's segment, opens its own with
    the extreme of the candles after it up to ``i``; returns its record number."""
    nr = p.nrec[sd]
    if nr > 0:
        p.rec_seg[sd, nr - 1] = max(p.lag[0], price) if side > 0 else min(p.lag[1], price)
    seg_now = h[pivot + 1] if side > 0 else lo[pivot + 1]
    for k in range(pivot + 2, i + 1):
        if side > 0:
            if h[k] > seg_now:
                seg_now = h[k]
        elif lo[k] < seg_now:
            seg_now = lo[k]
    p.rec_anchor[sd, nr] = pivot
    p.rec_level[sd, nr] = price
    p.rec_seg[sd, nr] = seg_now
    p.rec_pool[sd, nr] = -1
    p.nrec[sd] = nr + 1
    p.lag[sd] = -np.inf if side > 0 else np.inf
    return nr


@rule
def _equal_level_match(p, sd, nr, side, x, tol):  # type: ignore[no-untyped-def]
    """§5 equal highs / lows: the nearest earlier pivot within ``tol`` of ``x`` not blocked by a more
    extreme candle in between (the search stops at one beyond x ± tol); −1 when none."""
    running = p.rec_seg[sd, nr]
    for q in range(nr - 1, -1, -1):
        seg = p.rec_seg[sd, q]
        y = p.rec_level[sd, q]
        if side > 0:
            if seg > running:
                running = seg
            if running > x + tol:
                return -1
            ok = abs(x - y) <= tol and running <= max(x, y)
        else:
            if seg < running:
                running = seg
            if running < x - tol:
                return -1
            ok = abs(x - y) <= tol and running >= min(x, y)
        if ok:
            return q
    return -1


@rule
def _join_pool(p, pc, lb, sd, match, pivot, x):  # type: ignore[no-untyped-def]
    """The pool the new pivot joins: the matched pivot's pool while its level is alive (extended), else a
    new pool of the two pivots. Returns (pool, extended)."""
    pool = p.rec_pool[sd, match]
    nnode = pc[P_NODES]
    if pool >= 0 and p.level[pool] >= 0 and lb.alive[p.level[pool]]:
        p.rec_pool[sd, match] = -1  # the newest member now carries the pool
        p.node_idx[nnode] = pivot
        p.node_val[nnode] = x
        p.node_next[nnode] = -1
        p.node_next[p.tail[pool]] = nnode
        p.tail[pool] = nnode
        p.count[pool] += 1
        pc[P_NODES] = nnode + 1
        return pool, True
    if pc[P_POOLS] >= p.head.shape[0]:
        raise ValueError("pool capacity")
    pool = pc[P_POOLS]
    pc[P_POOLS] = pool + 1
    p.node_idx[nnode] = p.rec_anchor[sd, match]
    p.node_val[nnode] = p.rec_level[sd, match]
    p.node_next[nnode] = nnode + 1
    p.node_idx[nnode + 1] = pivot
    p.node_val[nnode + 1] = x
    p.node_next[nnode + 1] = -1
    p.head[pool] = nnode
    p.tail[pool] = nnode + 1
    p.count[pool] = 2
    p.level[pool] = -1
    pc[P_NODES] = nnode + 2
    return pool, False


@rule
def _pool_event(ev_i, ev_f, r, p, pool, extended, side, pivot, i, members, nmem):  # type: ignore[no-untyped-def]
    """Row ``r``: the pool event (members appended to ``members``: I0 offset, I1 count; mean in F0); the
    caller made room for both. Returns (nmem, top, bottom)."""
    top = -np.inf
    bottom = np.inf
    total = 0.0
    offset = nmem
    node = p.head[pool]
    while node >= 0:
        value = p.node_val[node]
        if value > top:
            top = value
        if value < bottom:
            bottom = value
        total += value
        members[nmem] = p.node_idx[node]
        nmem += 1
        node = p.node_next[node]
    kind = K_LIQUIDITY_POOL_EXTENDED if extended else K_LIQUIDITY_POOL
    put(ev_i, ev_f, r, kind, side, T_NONE, pivot, i, top, bottom, top if side > 0 else bottom)
    ev_f[r, F0] = total / p.count[pool]
    ev_i[r, I0] = offset
    ev_i[r, I1] = p.count[pool]
    if extended:
        ev_i[r, R0] = p.event[pool]
    return nmem, top, bottom


@rule
def _pool_level(lb, lc, p, pool, extended, side, level_price, pivot, anchor_time, i, ref, pool_on):  # type: ignore[no-untyped-def]
    """§5 source ``pool``: a new pool's level at its extreme, or the extended pool's level re-priced."""
    if not extended:
        p.event[pool] = ref
        if pool_on:
            v = new_level(lb, lc, side, level_price, T_POOL, pivot, anchor_time, i, ref)
            p.level[pool] = v
            make_testable(lb, lc, v, i)
    elif lb.price[p.level[pool]] != level_price:
        v = p.level[pool]
        lb.price[v] = level_price
        make_testable(lb, lc, v, i)


@rule
def pivot_liquidity(ev_i, ev_f, r, lb, lc, p, pc, t, h, lo, atr, i, right, is_high, is_low, k_atr, k_bps,  # type: ignore[no-untyped-def]
                    swing_on, pool_on, members, nmem, base):
    """The raw pivots confirmed at ``i``: their ``swing`` levels, records and pools (high side first); the
    caller made room for two pool events and their members. Returns (r, nmem)."""
    pivot = i - right
    anchor_time = t[pivot]
    tol_ok = True  # no equal-level tolerance before the ATR exists
    tol_atr = 0.0
    if k_atr != 0.0:
        if math.isnan(atr[i]):
            tol_ok = False
        else:
            tol_atr = k_atr * atr[i]
    for sd in range(2):
        side = 1 if sd == 0 else -1
        if not (is_high if sd == 0 else is_low):
            continue
        price = h[pivot] if side > 0 else lo[pivot]
        if swing_on:
            v = new_level(lb, lc, side, price, T_SWING, pivot, anchor_time, i, -1)
            make_testable(lb, lc, v, i)
        nr = _record_pivot(p, sd, side, pivot, price, i, h, lo)
        if not tol_ok:
            continue
        tol = tol_atr
        if k_bps != 0.0:
            tol = max(tol, k_bps * 1e-4 * price)
        match = _equal_level_match(p, sd, nr, side, price, tol)
        if match < 0:
            continue
        pool, extended = _join_pool(p, pc, lb, sd, match, pivot, price)
        nmem, top, bottom = _pool_event(ev_i, ev_f, r, p, pool, extended, side, pivot, i, members, nmem)
        p.rec_pool[sd, nr] = pool
        _pool_level(lb, lc, p, pool, extended, side, top if side > 0 else bottom, pivot, anchor_time, i,
                    base | r, pool_on)
        r += 1
    return r, nmem
