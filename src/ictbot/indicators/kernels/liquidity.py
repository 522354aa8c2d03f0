"""Liquidity levels, equal highs / lows pools, taking, sweeps and runs (ict-spec §5).

Port of ``ict/liquidity.py``. Levels live in flat arrays (index = creation order, ``seq`` = index + 1);
per side a lazy-deletion heap keyed by the price at which the level is taken.
"""

from __future__ import annotations

import math

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.buffers import grow_f, grow_i, heap_pop, heap_push, heap_room, new_events, put, room
from ictbot.indicators.kernels.codes import (
    F0,
    I0,
    I1,
    K_LIQUIDITY_POOL,
    K_LIQUIDITY_POOL_EXTENDED,
    K_LIQUIDITY_TAKEN,
    K_RUN,
    K_SWEEP,
    R0,
    REF_SHIFT,
    T_DAY,
    T_NONE,
    T_POOL,
    T_SWING,
)
from ictbot.indicators.kernels.swings import pivot_at

NAN = np.nan


@jit
def _level_event(ev_i, ev_f, r, kind, v, j, lside, lprice, lsrc, lanchor, latime, lconfirm, lparent, ltaken,  # type: ignore[no-untyped-def]
                 excursion):
    ev_i, ev_f = room(ev_i, ev_f, r)
    put(ev_i, ev_f, r, kind, lside[v], lsrc[v], lanchor[v], j, NAN, NAN, lprice[v])
    ev_i[r, I0] = lconfirm[v]
    ev_i[r, I1] = ltaken[v]
    ev_i[r, R0] = lparent[v]
    ev_f[r, F0] = excursion
    return ev_i, ev_f, r + 1


@jit
def _version(ver_i, ver_f, nver, lcur, v, i, price):  # type: ignore[no-untyped-def]
    """Level ``v`` shows ``price`` from candle ``i`` on: a new version row, the previous one ends at ``i``."""
    prev = lcur[v]
    if prev >= 0:
        ver_i[prev, 2] = i
    ver_i[nver, 0] = v
    ver_i[nver, 1] = i
    ver_i[nver, 2] = -1
    ver_f[nver] = price
    lcur[v] = nver
    return nver + 1


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
    base = slot << REF_SHIFT
    cap = 3 * n + 256  # levels: two swing levels per pivot candle at most, pools, periods, windows
    lside = np.empty(cap, np.int64)
    lprice = np.empty(cap, np.float64)
    lsrc = np.empty(cap, np.int64)
    lanchor = np.empty(cap, np.int64)
    latime = np.empty(cap, np.int64)
    lconfirm = np.empty(cap, np.int64)
    lparent = np.empty(cap, np.int64)
    lalive = np.empty(cap, np.bool_)
    ltaken = np.empty(cap, np.int64)
    lexc = np.empty(cap, np.float64)
    llimit = np.empty(cap, np.float64)
    lver = np.empty(cap, np.int64)
    nlev = 0
    lcur = np.full(cap, -1, np.int64)  # current version row per level
    # versions: level creations (< cap) plus at most one pool extension per side and candle
    ver_i = np.empty((cap + 2 * n + 16, 3), np.int64)
    ver_f = np.empty(cap + 2 * n + 16, np.float64)
    nver = 0
    bk = np.empty(cap, np.float64)
    bs = np.empty(cap, np.int64)
    bv = np.empty(cap, np.int64)
    bsize = 0
    sk = np.empty(cap, np.float64)
    ssq = np.empty(cap, np.int64)
    sv = np.empty(cap, np.int64)
    ssize = 0
    pending = np.empty(cap, np.int64)
    npend = 0
    work = np.empty(cap, np.int64)
    waiting = np.empty(64, np.int64)
    nwait = 0
    taken_up = np.empty(cap, np.int64)
    ntu = 0
    taken_dn = np.empty(cap, np.int64)
    ntd = 0
    # raw pivots per side: anchor, level, segment extreme, pool whose newest member it is
    rec_anchor = np.empty((2, cap), np.int64)
    rec_level = np.empty((2, cap), np.float64)
    rec_seg = np.empty((2, cap), np.float64)
    rec_pool = np.empty((2, cap), np.int64)
    nrec = np.zeros(2, np.int64)
    lag = np.array([-np.inf, np.inf])
    # pools: member list as a linked list of nodes, the level (−1 = none) and the creating event
    pool_head = np.empty(cap, np.int64)
    pool_tail = np.empty(cap, np.int64)
    pool_count = np.empty(cap, np.int64)
    pool_level = np.empty(cap, np.int64)
    pool_event = np.empty(cap, np.int64)
    npool = 0
    node_idx = np.empty(cap, np.int64)
    node_val = np.empty(cap, np.float64)
    node_next = np.empty(cap, np.int64)
    nnode = 0
    members = np.empty(cap, np.int64)
    nmem = 0
    pv_k = 0
    ss_k = 0
    pool_on = enabled[T_POOL]
    swing_on = enabled[T_SWING]
    for i in range(n):
        ti = t[i]
        hi = h[i]
        li = lo[i]
        # ---- levels becoming testable at i: windows closed at the previous candle, periods, windows
        for q in range(nwait):
            v = waiting[q]
            lver[v] += 1
            lalive[v] = True
            nver = _version(ver_i, ver_f, nver, lcur, v, i, lprice[v])
            if lside[v] > 0:
                bk, bs, bv = heap_room(bk, bs, bv, bsize)
                bsize = heap_push(bk, bs, bv, bsize, lprice[v], v + 1, lver[v])
            else:
                sk, ssq, sv = heap_room(sk, ssq, sv, ssize)
                ssize = heap_push(sk, ssq, sv, ssize, -lprice[v], v + 1, lver[v])
        nwait = 0
        while pv_k < pv_i.shape[0] and pv_i[pv_k, 1] == i:
            src = T_DAY + pv_i[pv_k, 0]
            if enabled[src]:
                for side in (1, -1):
                    v = nlev
                    nlev += 1
                    if nlev >= lside.shape[0]:
                        raise ValueError("liquidity level capacity")
                    lside[v] = side
                    lprice[v] = pv_f[pv_k, 0] if side > 0 else pv_f[pv_k, 1]
                    lsrc[v] = src
                    lanchor[v] = pv_i[pv_k, 2] if side > 0 else pv_i[pv_k, 4]
                    latime[v] = pv_i[pv_k, 3] if side > 0 else pv_i[pv_k, 5]
                    lconfirm[v] = i
                    lparent[v] = pv_i[pv_k, 6]
                    lver[v] = 1
                    lalive[v] = True
                    nver = _version(ver_i, ver_f, nver, lcur, v, i, lprice[v])
                    if side > 0:
                        bk, bs, bv = heap_room(bk, bs, bv, bsize)
                        bsize = heap_push(bk, bs, bv, bsize, lprice[v], v + 1, 1)
                    else:
                        sk, ssq, sv = heap_room(sk, ssq, sv, ssize)
                        ssize = heap_push(sk, ssq, sv, ssize, -lprice[v], v + 1, 1)
            pv_k += 1
        while ss_k < ss_i.shape[0] and ss_i[ss_k, 1] == i:
            src = ss_i[ss_k, 0]
            if enabled[src]:
                for side in (1, -1):
                    v = nlev
                    nlev += 1
                    if nlev >= lside.shape[0]:
                        raise ValueError("liquidity level capacity")
                    lside[v] = side
                    lprice[v] = ss_f[ss_k, 0] if side > 0 else ss_f[ss_k, 1]
                    lsrc[v] = src
                    lanchor[v] = ss_i[ss_k, 3] if side > 0 else ss_i[ss_k, 5]
                    latime[v] = ss_i[ss_k, 4] if side > 0 else ss_i[ss_k, 6]
                    lconfirm[v] = i
                    lparent[v] = ss_i[ss_k, 7]
                    lver[v] = 0
                    lalive[v] = True
                    if ti >= ss_i[ss_k, 2]:
                        lver[v] = 1
                        nver = _version(ver_i, ver_f, nver, lcur, v, i, lprice[v])
                        if side > 0:
                            bk, bs, bv = heap_room(bk, bs, bv, bsize)
                            bsize = heap_push(bk, bs, bv, bsize, lprice[v], v + 1, 1)
                        else:
                            sk, ssq, sv = heap_room(sk, ssq, sv, ssize)
                            ssize = heap_push(sk, ssq, sv, ssize, -lprice[v], v + 1, 1)
                    else:
                        if nwait == waiting.shape[0]:
                            waiting = grow_i(waiting, nwait)
                        waiting[nwait] = v
                        nwait += 1
            ss_k += 1
        # ---- taking (§5)
        nt = 0
        while bsize > 0 and bk[0] < hi:
            v = bs[0] - 1
            ver = bv[0]
            bsize = heap_pop(bk, bs, bv, bsize)
            if lalive[v] and lver[v] == ver:
                work[npend + nt] = v
                nt += 1
        while ssize > 0 and -sk[0] > li:
            v = ssq[0] - 1
            ver = sv[0]
            ssize = heap_pop(sk, ssq, sv, ssize)
            if lalive[v] and lver[v] == ver:
                work[npend + nt] = v
                nt += 1
        if nt > 0 or npend > 0:
            a = atr[i]
            for q in range(npend, npend + nt):
                v = work[q]
                lalive[v] = False
                ltaken[v] = i
                ver_i[lcur[v], 2] = i
                lexc[v] = 0.0
                llimit[v] = NAN if math.isnan(k_exc) or math.isnan(a) else k_exc * a
                if lside[v] > 0:
                    if ntu == 0 or taken_up[ntu - 1] != i:
                        taken_up[ntu] = i
                        ntu += 1
                else:
                    if ntd == 0 or taken_dn[ntd - 1] != i:
                        taken_dn[ntd] = i
                        ntd += 1
            for q in range(npend):
                work[q] = pending[q]
            m = npend + nt
            # sort by key (confirm, source rank, buy-side first, seq): insertion sort, m is small
            for q in range(1, m):
                v = work[q]
                x = q - 1
                while x >= 0:
                    u = work[x]
                    if lconfirm[u] != lconfirm[v]:
                        later = lconfirm[u] > lconfirm[v]
                    elif rank[lsrc[u]] != rank[lsrc[v]]:
                        later = rank[lsrc[u]] > rank[lsrc[v]]
                    elif lside[u] != lside[v]:
                        later = lside[u] < lside[v]
                    else:
                        later = u > v
                    if not later:
                        break
                    work[x + 1] = u
                    x -= 1
                work[x + 1] = v
            ci = c[i]
            npend = 0
            for q in range(m):
                v = work[q]
                if ltaken[v] == i:
                    ev_i, ev_f, r = _level_event(ev_i, ev_f, r, K_LIQUIDITY_TAKEN, v, i, lside, lprice, lsrc, lanchor,
                                                 latime, lconfirm, lparent, ltaken, NAN)
                lam = lprice[v]
                if lside[v] > 0:
                    excursion = max(lexc[v], hi - lam)
                    back_inside = ci <= lam
                else:
                    excursion = max(lexc[v], lam - li)
                    back_inside = ci >= lam
                lexc[v] = excursion
                if not math.isnan(llimit[v]) and excursion > llimit[v]:
                    ev_i, ev_f, r = _level_event(ev_i, ev_f, r, K_RUN, v, i, lside, lprice, lsrc, lanchor, latime,
                                                 lconfirm, lparent, ltaken, excursion)
                elif back_inside:
                    ev_i, ev_f, r = _level_event(ev_i, ev_f, r, K_SWEEP, v, i, lside, lprice, lsrc, lanchor, latime,
                                                 lconfirm, lparent, ltaken, excursion)
                elif i == ltaken[v] + sweep_window:
                    ev_i, ev_f, r = _level_event(ev_i, ev_f, r, K_RUN, v, i, lside, lprice, lsrc, lanchor, latime,
                                                 lconfirm, lparent, ltaken, excursion)
                else:
                    pending[npend] = v
                    npend += 1
        # ---- raw swings and pools
        lag_index = i - right
        if lag_index >= 0:
            if nrec[0] > 0 and lag_index > rec_anchor[0, nrec[0] - 1] and h[lag_index] > lag[0]:
                lag[0] = h[lag_index]
            if nrec[1] > 0 and lag_index > rec_anchor[1, nrec[1] - 1] and lo[lag_index] < lag[1]:
                lag[1] = lo[lag_index]
        is_high, is_low = pivot_at(h, lo, i, left, right)
        if not (is_high or is_low):
            continue
        pivot = i - right
        anchor_time = t[pivot]
        tol_ok = True
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
                v = nlev
                nlev += 1
                if nlev >= lside.shape[0]:
                    raise ValueError("liquidity level capacity")
                lside[v] = side
                lprice[v] = price
                lsrc[v] = T_SWING
                lanchor[v] = pivot
                latime[v] = anchor_time
                lconfirm[v] = i
                lparent[v] = -1
                lver[v] = 1
                lalive[v] = True
                nver = _version(ver_i, ver_f, nver, lcur, v, i, price)
                if side > 0:
                    bk, bs, bv = heap_room(bk, bs, bv, bsize)
                    bsize = heap_push(bk, bs, bv, bsize, price, v + 1, 1)
                else:
                    sk, ssq, sv = heap_room(sk, ssq, sv, ssize)
                    ssize = heap_push(sk, ssq, sv, ssize, -price, v + 1, 1)
            nr = nrec[sd]
            if nr > 0:
                rec_seg[sd, nr - 1] = max(lag[0], price) if side > 0 else min(lag[1], price)
            seg_now = h[pivot + 1] if side > 0 else lo[pivot + 1]
            for k in range(pivot + 2, i + 1):
                if side > 0:
                    if h[k] > seg_now:
                        seg_now = h[k]
                elif lo[k] < seg_now:
                    seg_now = lo[k]
            rec_anchor[sd, nr] = pivot
            rec_level[sd, nr] = price
            rec_seg[sd, nr] = seg_now
            rec_pool[sd, nr] = -1
            nrec[sd] = nr + 1
            lag[sd] = -np.inf if side > 0 else np.inf
            if not tol_ok:
                continue
            # ---- equal-level match (the nearest earlier pivot not blocked by a more extreme candle)
            x = price
            tol = tol_atr
            if k_bps != 0.0:
                tol = max(tol, k_bps * 1e-4 * x)
            running = rec_seg[sd, nr]
            match = -1
            for q in range(nr - 1, -1, -1):
                seg = rec_seg[sd, q]
                y = rec_level[sd, q]
                if side > 0:
                    if seg > running:
                        running = seg
                    if running > x + tol:
                        break
                    ok = abs(x - y) <= tol and running <= max(x, y)
                else:
                    if seg < running:
                        running = seg
                    if running < x - tol:
                        break
                    ok = abs(x - y) <= tol and running >= min(x, y)
                if ok:
                    match = q
                    break
            if match < 0:
                continue
            pool = rec_pool[sd, match]
            extend = pool >= 0 and pool_level[pool] >= 0 and lalive[pool_level[pool]]
            if extend:
                rec_pool[sd, match] = -1
                node_idx = grow_i(node_idx, nnode)
                node_val = grow_f(node_val, nnode)
                node_next = grow_i(node_next, nnode)
                node_idx[nnode] = pivot
                node_val[nnode] = x
                node_next[nnode] = -1
                node_next[pool_tail[pool]] = nnode
                pool_tail[pool] = nnode
                pool_count[pool] += 1
                nnode += 1
            else:
                if npool >= pool_head.shape[0]:
                    raise ValueError("pool capacity")
                pool = npool
                npool += 1
                node_idx = grow_i(node_idx, nnode + 1)
                node_val = grow_f(node_val, nnode + 1)
                node_next = grow_i(node_next, nnode + 1)
                node_idx[nnode] = rec_anchor[sd, match]
                node_val[nnode] = rec_level[sd, match]
                node_next[nnode] = nnode + 1
                node_idx[nnode + 1] = pivot
                node_val[nnode + 1] = x
                node_next[nnode + 1] = -1
                pool_head[pool] = nnode
                pool_tail[pool] = nnode + 1
                pool_count[pool] = 2
                pool_level[pool] = -1
                nnode += 2
            top = -np.inf
            bottom = np.inf
            total = 0.0
            offset = nmem
            while members.shape[0] < nmem + pool_count[pool] + 1:
                members = grow_i(members, members.shape[0])
            node = pool_head[pool]
            while node >= 0:
                value = node_val[node]
                if value > top:
                    top = value
                if value < bottom:
                    bottom = value
                total += value
                members[nmem] = node_idx[node]
                nmem += 1
                node = node_next[node]
            mean = total / pool_count[pool]
            ev_i, ev_f = room(ev_i, ev_f, r)
            kind = K_LIQUIDITY_POOL_EXTENDED if extend else K_LIQUIDITY_POOL
            put(ev_i, ev_f, r, kind, side, T_NONE, pivot, i, top, bottom, top if side > 0 else bottom)
            ev_f[r, F0] = mean
            ev_i[r, I0] = offset
            ev_i[r, I1] = pool_count[pool]
            if extend:
                ev_i[r, R0] = pool_event[pool]
            rec_pool[sd, nr] = pool
            level_price = top if side > 0 else bottom
            if not extend:
                pool_event[pool] = base | r
                if pool_on:
                    v = nlev
                    nlev += 1
                    if nlev >= lside.shape[0]:
                        raise ValueError("liquidity level capacity")
                    lside[v] = side
                    lprice[v] = level_price
                    lsrc[v] = T_POOL
                    lanchor[v] = pivot
                    latime[v] = anchor_time
                    lconfirm[v] = i
                    lparent[v] = base | r
                    lver[v] = 1
                    lalive[v] = True
                    pool_level[pool] = v
                    nver = _version(ver_i, ver_f, nver, lcur, v, i, level_price)
                    if side > 0:
                        bk, bs, bv = heap_room(bk, bs, bv, bsize)
                        bsize = heap_push(bk, bs, bv, bsize, level_price, v + 1, 1)
                    else:
                        sk, ssq, sv = heap_room(sk, ssq, sv, ssize)
                        ssize = heap_push(sk, ssq, sv, ssize, -level_price, v + 1, 1)
            elif lprice[pool_level[pool]] != level_price:
                v = pool_level[pool]
                lprice[v] = level_price
                lver[v] += 1
                nver = _version(ver_i, ver_f, nver, lcur, v, i, level_price)
                if side > 0:
                    bk, bs, bv = heap_room(bk, bs, bv, bsize)
                    bsize = heap_push(bk, bs, bv, bsize, level_price, v + 1, lver[v])
                else:
                    sk, ssq, sv = heap_room(sk, ssq, sv, ssize)
                    ssize = heap_push(sk, ssq, sv, ssize, -level_price, v + 1, lver[v])
            r += 1
    levels = np.empty((nlev, 5), np.int64)
    levels[:, 0] = lside[:nlev]
    levels[:, 1] = lsrc[:nlev]
    levels[:, 2] = latime[:nlev]
    levels[:, 3] = lconfirm[:nlev]
    levels[:, 4] = lparent[:nlev]
    return (ev_i, ev_f, r, members[:nmem], taken_up[:ntu], taken_dn[:ntd], levels, ver_i[:nver].copy(),
            ver_f[:nver].copy())
