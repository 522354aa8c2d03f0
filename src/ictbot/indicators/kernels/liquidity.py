"""Liquidity levels, equal highs / lows pools, taking, sweeps and runs (ict-spec §5).

Port of ``ict/liquidity.py``. Levels live in ``liquidity_levels.LevelBook`` (flat arrays, index =
creation order, ``seq`` = index + 1, a lazy-deletion heap per side keyed by the price at which the level
is taken); raw swing levels and pools in ``liquidity_pools``. One helper per rule of §5 here:

* ``_period_levels`` / ``_session_levels`` — sources day / week / month (§7) and sessions / killzones
  (§8): both extremes of each closed period or window, a window's levels testable from its end;
* ``_collect_taken`` / ``_mark_taken`` — taking: a high above a buy-side level, a low below a sell-side
  level (current versions only), the ascending ``taken_up`` / ``taken_dn`` candle lists;
* ``_sort_taken`` — log order of the levels taken or pending (confirm, source rank, buy side, seq);
* ``_sweep_or_run`` — ``liquidity_taken``, then the excursion beyond the level: ``run`` when it exceeds
  k_exc × ATR, ``sweep`` on a close back inside, ``run`` when the sweep window ends; else pending.
"""

from __future__ import annotations

import math

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import grow_i, heap_pop, new_events, room
from ictbot.indicators.kernels.codes import K_LIQUIDITY_TAKEN, K_RUN, K_SWEEP, REF_SHIFT, T_DAY, T_POOL, T_SWING
from ictbot.indicators.kernels.liquidity_levels import (
    L_BUY_SIZE,
    L_SELL_SIZE,
    level_event,
    level_table,
    make_testable,
    new_level,
    new_levels,
)
from ictbot.indicators.kernels.liquidity_pools import P_NODES, new_pools, pivot_liquidity, track_lag
from ictbot.indicators.kernels.swings import pivot_at

NAN = np.nan


@rule
def _period_levels(lb, lc, pv_i, pv_f, pv_k, i, enabled):  # type: ignore[no-untyped-def]
    """Previous day / week / month confirmed at ``i``: high (buy side) and low (sell side), testable at
    once. Returns the next unread period row."""
    while pv_k < pv_i.shape[0] and pv_i[pv_k, 1] == i:
        src = T_DAY + pv_i[pv_k, 0]
        if enabled[src]:
            for side in (1, -1):
                low = 0 if side > 0 else 1  # columns: high, low / high idx, high time, low idx, low time
                v = new_level(lb, lc, side, pv_f[pv_k, low], src, pv_i[pv_k, 2 + 2 * low], pv_i[pv_k, 3 + 2 * low],
                              i, pv_i[pv_k, 6])
                make_testable(lb, lc, v, i)
        pv_k += 1
    return pv_k


@jit
def _session_levels(lb, lc, ss_i, ss_f, ss_k, i, ti, enabled, waiting, nwait):  # type: ignore[no-untyped-def]
    """Sessions / killzones closed at ``i``: high and low, testable from the window's end (else they wait
    in ``waiting`` for the next candle). Returns (next unread row, waiting, nwait)."""
    while ss_k < ss_i.shape[0] and ss_i[ss_k, 1] == i:
        src = ss_i[ss_k, 0]
        if enabled[src]:
            for side in (1, -1):
                low = 0 if side > 0 else 1  # columns: high, low / high idx, high time, low idx, low time
                v = new_level(lb, lc, side, ss_f[ss_k, low], src, ss_i[ss_k, 3 + 2 * low], ss_i[ss_k, 4 + 2 * low],
                              i, ss_i[ss_k, 7])
                if ti >= ss_i[ss_k, 2]:
                    make_testable(lb, lc, v, i)
                else:
                    if nwait == waiting.shape[0]:
                        waiting = grow_i(waiting, nwait)
                    waiting[nwait] = v
                    nwait += 1
        ss_k += 1
    return ss_k, waiting, nwait


@rule
def _collect_taken(lb, lc, hi, li, work, start):  # type: ignore[no-untyped-def]
    """§5 taking: the alive levels the candle traded through (buy side below the high, sell side above
    the low, current versions only) into ``work[start:]``; returns their count."""
    nt = 0
    while lc[L_BUY_SIZE] > 0 and lb.buy_key[0] < hi:
        v = lb.buy_seq[0] - 1
        ver = lb.buy_ver[0]
        lc[L_BUY_SIZE] = heap_pop(lb.buy_key, lb.buy_seq, lb.buy_ver, lc[L_BUY_SIZE])
        if lb.alive[v] and lb.ver[v] == ver:
            work[start + nt] = v
            nt += 1
    while lc[L_SELL_SIZE] > 0 and -lb.sell_key[0] > li:
        v = lb.sell_seq[0] - 1
        ver = lb.sell_ver[0]
        lc[L_SELL_SIZE] = heap_pop(lb.sell_key, lb.sell_seq, lb.sell_ver, lc[L_SELL_SIZE])
        if lb.alive[v] and lb.ver[v] == ver:
            work[start + nt] = v
            nt += 1
    return nt


@rule
def _mark_taken(lb, work, start, nt, i, limit, taken_up, ntu, taken_dn, ntd):  # type: ignore[no-untyped-def]
    """The levels in ``work[start:start + nt]`` are taken at ``i`` (their version ends; excursion starts
    at 0, limited to ``limit``); ``i`` is appended once per side. Returns (ntu, ntd)."""
    for q in range(start, start + nt):
        v = work[q]
        lb.alive[v] = False
        lb.taken[v] = i
        lb.ver_i[lb.cur[v], 2] = i
        lb.exc[v] = 0.0
        lb.limit[v] = limit
        if lb.side[v] > 0:
            if ntu == 0 or taken_up[ntu - 1] != i:
                taken_up[ntu] = i
                ntu += 1
        elif ntd == 0 or taken_dn[ntd - 1] != i:
            taken_dn[ntd] = i
            ntd += 1
    return ntu, ntd


@rule
def _sort_taken(lb, work, m, rank):  # type: ignore[no-untyped-def]
    """Sort ``work[:m]`` by (confirm, source rank, buy side first, seq): insertion sort, m is small."""
    for q in range(1, m):
        v = work[q]
        x = q - 1
        while x >= 0:
            u = work[x]
            if lb.confirm[u] != lb.confirm[v]:
                later = lb.confirm[u] > lb.confirm[v]
            elif rank[lb.src[u]] != rank[lb.src[v]]:
                later = rank[lb.src[u]] > rank[lb.src[v]]
            elif lb.side[u] != lb.side[v]:
                later = lb.side[u] < lb.side[v]
            else:
                later = u > v
            if not later:
                break
            work[x + 1] = u
            x -= 1
        work[x + 1] = v


@rule
def _sweep_or_run(ev_i, ev_f, r, lb, work, m, i, hi, li, ci, sweep_window, pending):  # type: ignore[no-untyped-def]
    """§5 for the levels taken or pending at ``i``: ``liquidity_taken`` (at the taking candle), then
    ``run`` (excursion beyond k_exc × ATR), ``sweep`` (close back inside), ``run`` (window over) or
    still pending; at most two rows per level (the caller made room). Returns (r, pending count)."""
    npend = 0
    for q in range(m):
        v = work[q]
        if lb.taken[v] == i:
            r = level_event(ev_i, ev_f, r, K_LIQUIDITY_TAKEN, v, i, lb, NAN)
        lam = lb.price[v]
        if lb.side[v] > 0:
            excursion = max(lb.exc[v], hi - lam)
            back_inside = ci <= lam
        else:
            excursion = max(lb.exc[v], lam - li)
            back_inside = ci >= lam
        lb.exc[v] = excursion
        if not math.isnan(lb.limit[v]) and excursion > lb.limit[v]:
            r = level_event(ev_i, ev_f, r, K_RUN, v, i, lb, excursion)
        elif back_inside:
            r = level_event(ev_i, ev_f, r, K_SWEEP, v, i, lb, excursion)
        elif i == lb.taken[v] + sweep_window:
            r = level_event(ev_i, ev_f, r, K_RUN, v, i, lb, excursion)
        else:
            pending[npend] = v
            npend += 1
    return r, npend


@jit
def liquidity_kernel(t, h, lo, c, atr, left, right, k_atr, k_bps, sweep_window, k_exc, enabled, rank,  # type: ignore[no-untyped-def]
                     pv_i, pv_f, ss_i, ss_f, slot):
    """``enabled[tag]``: source switched on; ``rank[tag]``: source rank; ``k_exc`` NaN = None.

    ``pv_*``: previous-period levels (kind 0..2, confirm, ...), ``ss_*``: closed-session levels.
    Returns the events, the pool member lists (flat, pool events point in with I0 = offset, I1 = count),
    the ascending confirm indexes of ``liquidity_taken`` per side, and the level table for snapshot
    replay: per level (creation order) side, source, anchor time, confirm index, parent ref; per version
    (a level pushed testable at a price, in push order) level, first candle, end candle (taken or
    superseded; −1 = alive at the end) and price.
    """
    n = t.shape[0]
    ev_i, ev_f = new_events(n + 64)
    r = 0
    cap = 3 * n + 256  # levels: two swing levels per pivot candle at most, pools, periods, windows
    # versions: level creations (< cap) plus at most one pool extension per side and candle
    lb, lc = new_levels(cap, cap + 2 * n + 16)
    pools, pc = new_pools(cap, 4 * n + 16)
    pending = np.empty(cap, np.int64)
    npend = 0
    work = np.empty(cap, np.int64)
    waiting = np.empty(64, np.int64)
    nwait = 0
    taken_up = np.empty(cap, np.int64)
    ntu = 0
    taken_dn = np.empty(cap, np.int64)
    ntd = 0
    members = np.empty(cap, np.int64)
    nmem = 0
    pv_k = 0
    ss_k = 0
    for i in range(n):
        # levels becoming testable at i: windows closed at the previous candle, periods, windows
        for q in range(nwait):
            make_testable(lb, lc, waiting[q], i)
        nwait = 0
        pv_k = _period_levels(lb, lc, pv_i, pv_f, pv_k, i, enabled)
        if ss_k < ss_i.shape[0] and ss_i[ss_k, 1] == i:  # (a call that may allocate costs reference counts)
            ss_k, waiting, nwait = _session_levels(lb, lc, ss_i, ss_f, ss_k, i, t[i], enabled, waiting, nwait)
        nt = _collect_taken(lb, lc, h[i], lo[i], work, npend)
        if nt > 0 or npend > 0:
            limit = NAN if math.isnan(k_exc) or math.isnan(atr[i]) else k_exc * atr[i]
            ntu, ntd = _mark_taken(lb, work, npend, nt, i, limit, taken_up, ntu, taken_dn, ntd)
            work[:npend] = pending[:npend]
            _sort_taken(lb, work, npend + nt, rank)
            ev_i, ev_f = room(ev_i, ev_f, r + 2 * (npend + nt))
            r, npend = _sweep_or_run(ev_i, ev_f, r, lb, work, npend + nt, i, h[i], lo[i], c[i], sweep_window, pending)
        track_lag(pools, h, lo, i - right)
        is_high, is_low = pivot_at(h, lo, i, left, right)
        if is_high or is_low:
            # room for two pool events and their members (a pool has at most every member node)
            ev_i, ev_f = room(ev_i, ev_f, r + 2)
            while members.shape[0] < nmem + 2 * (pc[P_NODES] + 2) + 2:
                members = grow_i(members, members.shape[0])
            r, nmem = pivot_liquidity(ev_i, ev_f, r, lb, lc, pools, pc, t, h, lo, atr, i, right, is_high, is_low,
                                      k_atr, k_bps, enabled[T_SWING], enabled[T_POOL], members, nmem, slot << REF_SHIFT)
    levels, ver_i, ver_f = level_table(lb, lc)
    return ev_i, ev_f, r, members[:nmem], taken_up[:ntu], taken_dn[:ntd], levels, ver_i, ver_f
