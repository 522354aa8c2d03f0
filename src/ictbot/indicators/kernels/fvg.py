"""ATR, displacement candles and fair value gaps with their lifecycle (ict-spec §0, §3, §9).

Ports of ``core/atr.py``, ``ict/displacement.py`` and ``ict/fvg.py``: same rules, same order of
events inside a candle; zones live in flat arrays (index = creation order = ``Zone.seq``).
"""

from __future__ import annotations

import math

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.buffers import evict_overflow, heap_pop, heap_push, new_events, put, room
from ictbot.indicators.kernels.codes import (
    F0,
    F1,
    I0,
    K_DISPLACEMENT,
    K_DISPLACEMENT_LEG,
    K_DISPLACEMENT_WITH_FVG,
    K_FVG,
    K_FVG_CE_TOUCHED,
    K_FVG_EVICTED,
    K_FVG_EXPIRED,
    K_FVG_EXTENDED,
    K_FVG_FILLED,
    K_FVG_INVALIDATED,
    K_FVG_TOUCHED,
    K_IFVG,
    K_IFVG_EVICTED,
    K_IFVG_EXPIRED,
    K_IFVG_INVALIDATED,
    K_IFVG_TOUCHED,
    R0,
    R1,
    REF_SHIFT,
    T_NONE,
)

NAN = np.nan
FAR_PAST = -(10**18)


@jit
def atr_series(h, lo, c, n):  # type: ignore[no-untyped-def]
    """Wilder ATR after each candle (the fold of ``AtrState.update``)."""
    size = h.shape[0]
    out = np.empty(size, np.float64)
    seed = 0.0
    value = NAN
    pc = NAN
    for i in range(size):
        tr = h[i] - lo[i] if i == 0 else max(h[i] - lo[i], abs(h[i] - pc), abs(lo[i] - pc))
        pc = c[i]
        count = i + 1
        if count < n:
            seed += tr
        elif count == n:
            seed += tr
            value = seed / n
        else:
            value = (value * (n - 1) + tr) / n
        out[i] = value
    return out


@jit
def displacement_direction(o, h, lo, c, atr_prev, k_body, min_body_ratio):  # type: ignore[no-untyped-def]
    """+1 / −1 for a displacement candle (§9), 0 otherwise."""
    size = o.shape[0]
    out = np.zeros(size, np.int64)
    for i in range(size):
        d = 1 if c[i] > o[i] else -1 if c[i] < o[i] else 0
        body = abs(c[i] - o[i])
        a = atr_prev[i]
        if d != 0 and not math.isnan(a) and body / (h[i] - lo[i]) >= min_body_ratio and body >= k_body * a:
            out[i] = d
    return out


@jit
def last_true(mask_dir, direction):  # type: ignore[no-untyped-def]
    """For every candle, the latest index <= i with ``mask_dir == direction`` (FAR_PAST if none)."""
    size = mask_dir.shape[0]
    out = np.empty(size, np.int64)
    last = FAR_PAST
    for i in range(size):
        if mask_dir[i] == direction:
            last = i
        out[i] = last
    return out


@jit
def _zone_event(ev_i, ev_f, r, kind, z, j, zdir, ztop, zbot, zmid, zanchor, zevent):  # type: ignore[no-untyped-def]
    put(ev_i, ev_f, r, kind, zdir[z], T_NONE, zanchor[z], j, ztop[z], zbot[z], NAN)
    ev_f[r, F0] = zmid[z]
    ev_i[r, R0] = zevent[z]


@jit
def fvg_kernel(t, o, h, lo, c, atr, disp_dir, require_body, require_close, require_disp, min_size,  # type: ignore[no-untyped-def]
               k_atr, max_age, merge_adjacent, max_active, slot):
    """Events of §3; also the gap formed at each candle (event ref or −1) for §9's ``displacement_with_fvg``.

    ``max_age`` / ``max_active`` < 0 mean None.
    """
    n = t.shape[0]
    ev_i, ev_f = new_events(3 * n + 64)
    r = 0
    formed_ref = np.full(n, -1, np.int64)
    formed_dir = np.zeros(n, np.int64)
    cap = 2 * n + 16
    zdir = np.empty(cap, np.int64)
    zrole = np.empty(cap, np.int64)  # 0 fvg, 1 ifvg
    ztop = np.empty(cap, np.float64)
    zbot = np.empty(cap, np.float64)
    zmid = np.empty(cap, np.float64)
    zanchor = np.empty(cap, np.int64)
    zatime = np.empty(cap, np.int64)
    zconfirm = np.empty(cap, np.int64)
    zevent = np.empty(cap, np.int64)
    ztouched = np.empty(cap, np.bool_)
    zmidhit = np.empty(cap, np.bool_)
    zfilled = np.empty(cap, np.bool_)
    zalive = np.empty(cap, np.bool_)
    zthr = np.empty(cap, np.float64)
    zver = np.empty(cap, np.int64)
    nz = 0
    # direction +1 zones: max-heap on threshold (key negated); direction −1: min-heap
    dk = np.empty(cap, np.float64)
    ds = np.empty(cap, np.int64)
    dv = np.empty(cap, np.int64)
    dsize = 0
    uk = np.empty(cap, np.float64)
    us = np.empty(cap, np.int64)
    uv = np.empty(cap, np.int64)
    usize = 0
    order_up = np.empty(cap, np.int64)
    nup = 0
    hup = 0
    order_dn = np.empty(cap, np.int64)
    ndn = 0
    hdn = 0
    active_up = 0
    active_dn = 0
    exp_head = 0
    found = np.empty(cap, np.int64)
    prev_gap = -1
    tag_base = slot << REF_SHIFT
    for i in range(n):
        # room for every event this candle can log: 5 per zone transition (touch, CE, fill, invalidation,
        # inverse gap), formation + extension, evictions (one capacity check per candle, not per event)
        ev_i, ev_f = room(ev_i, ev_f, r + 6 * (active_up + active_dn) + 8)
        hi = h[i]
        li = lo[i]
        ci = c[i]
        # ---- candidates (ZoneBook.candidates)
        nf = 0
        while dsize > 0 and -dk[0] >= li:
            z = ds[0]
            v = dv[0]
            dsize = heap_pop(dk, ds, dv, dsize)
            if zalive[z] and zver[z] == v:
                zver[z] += 1
                found[nf] = z
                nf += 1
        while usize > 0 and uk[0] <= hi:
            z = us[0]
            v = uv[0]
            usize = heap_pop(uk, us, uv, usize)
            if zalive[z] and zver[z] == v:
                zver[z] += 1
                found[nf] = z
                nf += 1
        if max_age >= 0:
            while exp_head < nz and zconfirm[exp_head] + max_age <= i:
                z = exp_head
                exp_head += 1
                if zalive[z] and zconfirm[z] + max_age == i:
                    dup = False
                    for q in range(nf):
                        if found[q] == z:
                            dup = True
                            break
                    if not dup:
                        found[nf] = z
                        nf += 1
        if nf > 1:
            found[:nf].sort()
        # ---- transitions
        for q in range(nf):
            z = found[q]
            up = zdir[z] > 0
            if zrole[z] == 0:
                if not ztouched[z] and (li <= ztop[z] if up else hi >= zbot[z]):
                    ztouched[z] = True
                    _zone_event(ev_i, ev_f, r, K_FVG_TOUCHED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                if not zmidhit[z] and (li <= zmid[z] if up else hi >= zmid[z]):
                    zmidhit[z] = True
                    _zone_event(ev_i, ev_f, r, K_FVG_CE_TOUCHED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                if not zfilled[z] and (li <= zbot[z] if up else hi >= ztop[z]):
                    zfilled[z] = True
                    _zone_event(ev_i, ev_f, r, K_FVG_FILLED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                if ci < zbot[z] if up else ci > ztop[z]:
                    zalive[z] = False
                    if up:
                        active_up -= 1
                    else:
                        active_dn -= 1
                    _zone_event(ev_i, ev_f, r, K_FVG_INVALIDATED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                    # the inverse gap (§3)
                    put(ev_i, ev_f, r, K_IFVG, -zdir[z], T_NONE, zanchor[z], i, ztop[z], zbot[z], NAN)
                    ev_f[r, F0] = zmid[z]
                    ev_i[r, R0] = zevent[z]
                    w = nz
                    nz += 1
                    zdir[w] = -zdir[z]
                    zrole[w] = 1
                    ztop[w] = ztop[z]
                    zbot[w] = zbot[z]
                    zmid[w] = zmid[z]
                    zanchor[w] = zanchor[z]
                    zatime[w] = zatime[z]
                    zconfirm[w] = i
                    zevent[w] = tag_base | r
                    r += 1
                    ztouched[w] = False
                    zmidhit[w] = False
                    zfilled[w] = False
                    zalive[w] = True
                    zver[w] = 1
                    if zdir[w] > 0:
                        order_up[nup] = w
                        nup += 1
                        active_up += 1
                        zthr[w] = ztop[w]
                        dsize = heap_push(dk, ds, dv, dsize, -zthr[w], w, 1)
                    else:
                        order_dn[ndn] = w
                        ndn += 1
                        active_dn += 1
                        zthr[w] = zbot[w]
                        usize = heap_push(uk, us, uv, usize, zthr[w], w, 1)
                    continue
                if max_age >= 0 and i == zconfirm[z] + max_age:
                    zalive[z] = False
                    if up:
                        active_up -= 1
                    else:
                        active_dn -= 1
                    _zone_event(ev_i, ev_f, r, K_FVG_EXPIRED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                    continue
                if up:
                    zthr[z] = ztop[z] if not ztouched[z] else zmid[z] if not zmidhit[z] else zbot[z]
                else:
                    zthr[z] = zbot[z] if not ztouched[z] else zmid[z] if not zmidhit[z] else ztop[z]
            else:
                if not ztouched[z] and (li <= ztop[z] if up else hi >= zbot[z]):
                    ztouched[z] = True
                    _zone_event(ev_i, ev_f, r, K_IFVG_TOUCHED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                if ci < zbot[z] if up else ci > ztop[z]:
                    zalive[z] = False
                    if up:
                        active_up -= 1
                    else:
                        active_dn -= 1
                    _zone_event(ev_i, ev_f, r, K_IFVG_INVALIDATED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                    continue
                if max_age >= 0 and i == zconfirm[z] + max_age:
                    zalive[z] = False
                    if up:
                        active_up -= 1
                    else:
                        active_dn -= 1
                    _zone_event(ev_i, ev_f, r, K_IFVG_EXPIRED, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                    continue
                if up:
                    zthr[z] = ztop[z] if not ztouched[z] else zbot[z]
                else:
                    zthr[z] = zbot[z] if not ztouched[z] else ztop[z]
            zver[z] += 1
            if up:
                dsize = heap_push(dk, ds, dv, dsize, -zthr[z], z, zver[z])
            else:
                usize = heap_push(uk, us, uv, usize, zthr[z], z, zver[z])
        # ---- formation
        gap = -1
        if i >= 2:
            ha = h[i - 2]
            la = lo[i - 2]
            ob = o[i - 1]
            cb = c[i - 1]
            d = 0
            top = 0.0
            bottom = 0.0
            if li > ha:
                d, top, bottom = 1, li, ha
                if require_body and not cb > ob:
                    d = 0
                if require_close and not cb > ha:
                    d = 0
            elif hi < la:
                d, top, bottom = -1, la, hi
                if require_body and not cb < ob:
                    d = 0
                if require_close and not cb < la:
                    d = 0
            if d != 0 and min_size != 0.0 and top - bottom < min_size:
                d = 0
            if d != 0 and k_atr != 0.0 and (math.isnan(atr[i]) or top - bottom < k_atr * atr[i]):
                d = 0
            if d != 0 and require_disp and disp_dir[i - 1] != d:
                d = 0
            if d != 0:
                ce = (top + bottom) / 2.0
                put(ev_i, ev_f, r, K_FVG, d, T_NONE, i - 1, i, top, bottom, NAN)
                ev_f[r, F0] = ce
                w = nz
                nz += 1
                zdir[w] = d
                zrole[w] = 0
                ztop[w] = top
                zbot[w] = bottom
                zmid[w] = ce
                zanchor[w] = i - 1
                zatime[w] = t[i - 1]
                zconfirm[w] = i
                zevent[w] = tag_base | r
                r += 1
                ztouched[w] = False
                zmidhit[w] = False
                zfilled[w] = False
                zalive[w] = True
                zver[w] = 1
                if d > 0:
                    order_up[nup] = w
                    nup += 1
                    active_up += 1
                    zthr[w] = top
                    dsize = heap_push(dk, ds, dv, dsize, -top, w, 1)
                else:
                    order_dn[ndn] = w
                    ndn += 1
                    active_dn += 1
                    zthr[w] = bottom
                    usize = heap_push(uk, us, uv, usize, bottom, w, 1)
                gap = w
                formed_ref[i] = zevent[w]
                formed_dir[i] = d
                if merge_adjacent and prev_gap >= 0 and zdir[prev_gap] == d and bottom <= ztop[prev_gap] \
                        and top >= zbot[prev_gap]:
                    put(ev_i, ev_f, r, K_FVG_EXTENDED, d, T_NONE, i - 1, i, max(top, ztop[prev_gap]),
                        min(bottom, zbot[prev_gap]), NAN)
                    ev_i[r, R0] = zevent[prev_gap]
                    r += 1
        prev_gap = gap
        # ---- capacity (ZoneBook.overflow): oldest alive zones beyond max_active per direction
        if max_active >= 0 and (active_up > max_active or active_dn > max_active):
            ne, hup, hdn, active_up, active_dn = evict_overflow(max_active, active_up, active_dn, order_up, order_dn,
                                                                hup, hdn, zalive, zdir, found)
            for q in range(ne):
                z = found[q]
                kind = K_FVG_EVICTED if zrole[z] == 0 else K_IFVG_EVICTED
                _zone_event(ev_i, ev_f, r, kind, z, i, zdir, ztop, zbot, zmid, zanchor, zevent)
                r += 1
    return ev_i, ev_f, r, formed_ref, formed_dir


@jit
def displacement_kernel(t, o, h, lo, c, atr_prev, disp_dir, formed_ref, formed_dir, max_leg, k_leg,  # type: ignore[no-untyped-def]
                        slot):
    """Events of §9: ``displacement_with_fvg`` of the previous candle, displacement, displacement legs."""
    n = t.shape[0]
    ev_i, ev_f = new_events(n // 4 + 64)
    r = 0
    tag_base = slot << REF_SHIFT
    last_ref = -1  # displacement event of the previous candle
    last_dir = 0
    last_end_up = -1
    last_end_dn = -1
    run_up = 0
    run_dn = 0
    for i in range(n):
        if last_ref >= 0 and formed_ref[i] >= 0 and formed_dir[i] == last_dir:
            ev_i, ev_f = room(ev_i, ev_f, r)
            put(ev_i, ev_f, r, K_DISPLACEMENT_WITH_FVG, last_dir, T_NONE, i - 1, i, NAN, NAN, NAN)
            ev_i[r, R0] = last_ref
            ev_i[r, R1] = formed_ref[i]
            r += 1
        last_ref = -1
        d = disp_dir[i]
        if d != 0:
            ev_i, ev_f = room(ev_i, ev_f, r)
            put(ev_i, ev_f, r, K_DISPLACEMENT, d, T_NONE, i, i, h[i], lo[i], NAN)
            ev_f[r, F0] = abs(c[i] - o[i])
            ev_f[r, F1] = atr_prev[i]
            last_ref = tag_base | r
            last_dir = d
            r += 1
        cd = 1 if c[i] > o[i] else -1 if c[i] < o[i] else 0
        run_up = run_up + 1 if cd == 1 else 0
        run_dn = run_dn + 1 if cd == -1 else 0
        if max_leg > 0 and cd != 0:
            last_end = last_end_up if cd > 0 else last_end_dn
            run = run_up if cd > 0 else run_dn
            first = max(i - max_leg + 1, last_end + 1, i - run + 1)
            for s in range(first, i + 1):  # smallest qualifying start wins
                atr_before = atr_prev[s]
                if math.isnan(atr_before):
                    continue
                body_sum = 0.0
                for k in range(s, i + 1):  # summed left to right, as written in §9
                    body_sum += abs(c[k] - o[k])
                if k_leg != 0.0 and body_sum < k_leg * atr_before:
                    continue
                top = h[s]
                bottom = lo[s]
                for k in range(s + 1, i + 1):
                    if h[k] > top:
                        top = h[k]
                    if lo[k] < bottom:
                        bottom = lo[k]
                ev_i, ev_f = room(ev_i, ev_f, r)
                put(ev_i, ev_f, r, K_DISPLACEMENT_LEG, cd, T_NONE, s, i, top, bottom, NAN)
                ev_i[r, I0] = i - s + 1
                ev_f[r, F0] = body_sum
                ev_f[r, F1] = atr_before
                r += 1
                if cd > 0:
                    last_end_up = i
                else:
                    last_end_dn = i
                break
    return ev_i, ev_f, r
