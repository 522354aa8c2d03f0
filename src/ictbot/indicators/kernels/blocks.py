"""Order blocks, breakers (ict-spec §4) and OTE impulse legs (§6), per structure stream.

Ports of ``ict/order_blocks.py`` and the event part of ``ict/premium_discount.py`` (the dealing-range
series is not computed here).
"""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.buffers import evict_overflow, heap_pop, heap_push, new_events, put, room
from ictbot.indicators.kernels.codes import (
    B0,
    B1,
    F0,
    F1,
    I0,
    K_BREAKER,
    K_BREAKER_EVICTED,
    K_BREAKER_INVALIDATED,
    K_BREAKER_TOUCHED,
    K_IMPULSE_LEG,
    K_LEG_INVALIDATED,
    K_OB_EVICTED,
    K_OB_INVALIDATED,
    K_OB_MT_VIOLATED,
    K_OB_TOUCHED,
    K_ORDER_BLOCK,
    K_OTE_ENTERED,
    K_OTE_EXCEEDED,
    R0,
    REF_SHIFT,
)

NAN = np.nan


@jit
def _zone_event(ev_i, ev_f, r, kind, z, j, tag, zdir, ztop, zbot, zmid, zanchor, zevent):  # type: ignore[no-untyped-def]
    put(ev_i, ev_f, r, kind, zdir[z], tag, zanchor[z], j, ztop[z], zbot[z], NAN)
    ev_f[r, F0] = zmid[z]
    ev_i[r, R0] = zevent[z]


@jit
def ob_kernel(t, o, h, lo, c, brk_n, brk, last_disp_up, last_disp_dn, last_fvg_up, last_fvg_dn, taken_up,  # type: ignore[no-untyped-def]
              taken_dn, body, wick_invalidation, strict, mss_window, max_active, tag, slot):
    """Events of §4 for one stream (``max_active`` < 0 = None)."""
    n = t.shape[0]
    ev_i, ev_f = new_events(n + 64)
    r = 0
    base = slot << REF_SHIFT
    cap = 2 * n + 16
    zdir = np.empty(cap, np.int64)
    zrole = np.empty(cap, np.int64)  # 0 order block, 1 breaker
    ztop = np.empty(cap, np.float64)
    zbot = np.empty(cap, np.float64)
    zmid = np.empty(cap, np.float64)
    zanchor = np.empty(cap, np.int64)
    zatime = np.empty(cap, np.int64)
    zevent = np.empty(cap, np.int64)
    ztouched = np.empty(cap, np.bool_)
    zmidhit = np.empty(cap, np.bool_)
    zalive = np.empty(cap, np.bool_)
    zswept = np.empty(cap, np.bool_)
    zthr = np.empty(cap, np.float64)
    zver = np.empty(cap, np.int64)
    nz = 0
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
    active_ob_up = np.zeros(n, np.bool_)  # an alive order block of that direction on candle k
    active_ob_dn = np.zeros(n, np.bool_)
    last_choch_up = -(10**18)
    last_choch_dn = -(10**18)
    pend_zone = np.empty(cap, np.int64)
    pend_j = np.empty(cap, np.int64)
    npend = 0
    found = np.empty(cap, np.int64)
    for j in range(n):
        # room for every event this candle can log: 4 per zone transition (touch, MT, invalidation,
        # breaker), pending breakers, new blocks, evictions <= zones alive after those (one check per candle)
        ev_i, ev_f = room(ev_i, ev_f, r + 5 * (active_up + active_dn) + 2 * npend + 8)
        hj = h[j]
        lj = lo[j]
        cj = c[j]
        nb = brk_n[j]
        if strict:
            for q in range(nb):
                if brk[j, q, 6] == 1:
                    if brk[j, q, 0] > 0:
                        last_choch_up = j
                    else:
                        last_choch_dn = j
        nf = 0
        while dsize > 0 and -dk[0] >= lj:
            z = ds[0]
            v = dv[0]
            dsize = heap_pop(dk, ds, dv, dsize)
            if zalive[z] and zver[z] == v:
                zver[z] += 1
                found[nf] = z
                nf += 1
        while usize > 0 and uk[0] <= hj:
            z = us[0]
            v = uv[0]
            usize = heap_pop(uk, us, uv, usize)
            if zalive[z] and zver[z] == v:
                zver[z] += 1
                found[nf] = z
                nf += 1
        if nf > 1:
            found[:nf].sort()
        for q in range(nf):
            z = found[q]
            up = zdir[z] > 0
            breaker_parent = -1
            if zrole[z] == 0:
                if not ztouched[z] and (lj <= ztop[z] if up else hj >= zbot[z]):
                    ztouched[z] = True
                    _zone_event(ev_i, ev_f, r, K_OB_TOUCHED, z, j, tag, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                if not zmidhit[z] and (cj < zmid[z] if up else cj > zmid[z]):
                    zmidhit[z] = True
                    _zone_event(ev_i, ev_f, r, K_OB_MT_VIOLATED, z, j, tag, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                if up:
                    broken = (lj if wick_invalidation else cj) < zbot[z]
                else:
                    broken = (hj if wick_invalidation else cj) > ztop[z]
                if broken:
                    zalive[z] = False
                    if up:
                        active_up -= 1
                        active_ob_up[zanchor[z]] = False
                    else:
                        active_dn -= 1
                        active_ob_dn[zanchor[z]] = False
                    _zone_event(ev_i, ev_f, r, K_OB_INVALIDATED, z, j, tag, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                    if not strict:
                        breaker_parent = z
                    elif zswept[z]:
                        zswept[z] = False
                        last = last_choch_dn if up else last_choch_up
                        if last >= j - mss_window:  # (b) CHoCH already in [j − w, j]
                            breaker_parent = z
                        elif mss_window > 0:
                            pend_zone[npend] = z
                            pend_j[npend] = j
                            npend += 1
                    if breaker_parent < 0:
                        continue
                else:
                    if up:
                        zthr[z] = ztop[z] if not ztouched[z] else zmid[z] if not zmidhit[z] else zbot[z]
                    else:
                        zthr[z] = zbot[z] if not ztouched[z] else zmid[z] if not zmidhit[z] else ztop[z]
            else:
                if not ztouched[z] and (lj <= ztop[z] if up else hj >= zbot[z]):
                    ztouched[z] = True
                    _zone_event(ev_i, ev_f, r, K_BREAKER_TOUCHED, z, j, tag, zdir, ztop, zbot, zmid, zanchor, zevent)
                    r += 1
                if cj < zbot[z] if up else cj > ztop[z]:
                    zalive[z] = False
                    if up:
                        active_up -= 1
                    else:
                        active_dn -= 1
                    _zone_event(ev_i, ev_f, r, K_BREAKER_INVALIDATED, z, j, tag, zdir, ztop, zbot, zmid, zanchor,
                                zevent)
                    r += 1
                    continue
                if up:
                    zthr[z] = ztop[z] if not ztouched[z] else zbot[z]
                else:
                    zthr[z] = zbot[z] if not ztouched[z] else ztop[z]
            if breaker_parent < 0:
                zver[z] += 1
                if up:
                    dsize = heap_push(dk, ds, dv, dsize, -zthr[z], z, zver[z])
                else:
                    usize = heap_push(uk, us, uv, usize, zthr[z], z, zver[z])
                continue
            # breaker from the invalidated block (flipped direction)
            p = breaker_parent
            put(ev_i, ev_f, r, K_BREAKER, -zdir[p], tag, zanchor[p], j, ztop[p], zbot[p], NAN)
            ev_f[r, F0] = zmid[p]
            ev_i[r, R0] = zevent[p]
            w = nz
            nz += 1
            zdir[w] = -zdir[p]
            zrole[w] = 1
            ztop[w] = ztop[p]
            zbot[w] = zbot[p]
            zmid[w] = zmid[p]
            zanchor[w] = zanchor[p]
            zatime[w] = zatime[p]
            zevent[w] = base | r
            r += 1
            zalive[w] = True
            ztouched[w] = False
            zmidhit[w] = False
            zswept[w] = False
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
        # strict breakers waiting for a CHoCH of their direction until j + mss_window
        if npend > 0:
            choch_up = False
            choch_dn = False
            for q in range(nb):
                if brk[j, q, 6] == 1:
                    if brk[j, q, 0] > 0:
                        choch_up = True
                    else:
                        choch_dn = True
            keep = 0
            for q in range(npend):
                z = pend_zone[q]
                jz = pend_j[q]
                if jz == j:
                    pend_zone[keep] = z
                    pend_j[keep] = jz
                    keep += 1
                elif j > jz + mss_window:
                    continue
                elif (choch_dn if zdir[z] > 0 else choch_up):
                    p = z
                    put(ev_i, ev_f, r, K_BREAKER, -zdir[p], tag, zanchor[p], j, ztop[p], zbot[p], NAN)
                    ev_f[r, F0] = zmid[p]
                    ev_i[r, R0] = zevent[p]
                    w = nz
                    nz += 1
                    zdir[w] = -zdir[p]
                    zrole[w] = 1
                    ztop[w] = ztop[p]
                    zbot[w] = zbot[p]
                    zmid[w] = zmid[p]
                    zanchor[w] = zanchor[p]
                    zatime[w] = zatime[p]
                    zevent[w] = base | r
                    r += 1
                    zalive[w] = True
                    ztouched[w] = False
                    zmidhit[w] = False
                    zswept[w] = False
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
                elif j < jz + mss_window:
                    pend_zone[keep] = z
                    pend_j[keep] = jz
                    keep += 1
            npend = keep
        # new order blocks from this candle's breaks
        for q in range(nb):
            d = brk[j, q, 0]
            k = brk[j, q, 3]
            if (active_ob_up[k] if d > 0 else active_ob_dn[k]):
                continue
            if body:
                top = max(o[k], c[k])
                bottom = min(o[k], c[k])
            else:
                top = h[k]
                bottom = lo[k]
            mt = (top + bottom) / 2.0
            put(ev_i, ev_f, r, K_ORDER_BLOCK, d, tag, k, j, top, bottom, NAN)
            ev_f[r, F0] = mt
            ev_i[r, R0] = brk[j, q, 1]
            ev_i[r, I0] = brk[j, q, 2]
            ev_i[r, B0] = 1 if (last_disp_up[j] if d > 0 else last_disp_dn[j]) >= k + 1 else 0
            ev_i[r, B1] = 1 if (last_fvg_up[j] if d > 0 else last_fvg_dn[j]) >= k + 2 else 0
            w = nz
            nz += 1
            zdir[w] = d
            zrole[w] = 0
            ztop[w] = top
            zbot[w] = bottom
            zmid[w] = mt
            zanchor[w] = k
            zatime[w] = t[k]
            zevent[w] = base | r
            r += 1
            zalive[w] = True
            ztouched[w] = False
            zmidhit[w] = False
            zswept[w] = False
            zver[w] = 1
            if strict:  # (a) liquidity on the block's own side taken in [k + 1, j]
                confirms = taken_up if d > 0 else taken_dn
                at = np.searchsorted(confirms, k + 1)
                zswept[w] = at < confirms.shape[0] and confirms[at] <= j
            if d > 0:
                active_ob_up[k] = True
                order_up[nup] = w
                nup += 1
                active_up += 1
                zthr[w] = top
                dsize = heap_push(dk, ds, dv, dsize, -top, w, 1)
            else:
                active_ob_dn[k] = True
                order_dn[ndn] = w
                ndn += 1
                active_dn += 1
                zthr[w] = bottom
                usize = heap_push(uk, us, uv, usize, bottom, w, 1)
        if max_active >= 0 and (active_up > max_active or active_dn > max_active):
            ne, hup, hdn, active_up, active_dn = evict_overflow(max_active, active_up, active_dn, order_up, order_dn,
                                                                hup, hdn, zalive, zdir, found)
            for q in range(ne):
                z = found[q]
                if zrole[z] == 0:
                    if zdir[z] > 0:
                        active_ob_up[zanchor[z]] = False
                    else:
                        active_ob_dn[zanchor[z]] = False
                    zswept[z] = False
                kind = K_OB_EVICTED if zrole[z] == 0 else K_BREAKER_EVICTED
                _zone_event(ev_i, ev_f, r, kind, z, j, tag, zdir, ztop, zbot, zmid, zanchor, zevent)
                r += 1
    return ev_i, ev_f, r


@jit
def pd_kernel(t, h, lo, c, brk_n, brk, ote_low, ote_high, sweet_spot, tag, slot):  # type: ignore[no-untyped-def]
    """Impulse legs of the ``pd_stream`` breaks and their OTE transitions (§6)."""
    n = t.shape[0]
    ev_i, ev_f = new_events(n // 4 + 64)
    r = 0
    base = slot << REF_SHIFT
    has_leg = False
    ldir = 0
    la = 0.0
    la_idx = 0
    lb = 0.0
    lref = -1
    lstart = 0
    lentered = False
    lexceeded = False
    for i in range(n):
        hi = h[i]
        li = lo[i]
        ci = c[i]
        if has_leg and lstart < i:
            if ldir > 0:
                rng = lb - la
                top = lb - ote_low * rng
                bottom = lb - ote_high * rng
                sweet = lb - sweet_spot * rng
                entered = li <= top
                exceeded = ci < bottom
                invalid = li < la
            else:
                rng = la - lb
                top = lb + ote_high * rng
                bottom = lb + ote_low * rng
                sweet = lb + sweet_spot * rng
                entered = hi >= bottom
                exceeded = ci > top
                invalid = hi > la
            for step in range(3):
                if step == 0:
                    fire = entered and not lentered
                    if fire:
                        lentered = True
                    kind = K_OTE_ENTERED
                elif step == 1:
                    fire = exceeded and not lexceeded
                    if fire:
                        lexceeded = True
                    kind = K_OTE_EXCEEDED
                else:
                    fire = invalid
                    kind = K_LEG_INVALIDATED
                if fire:
                    ev_i, ev_f = room(ev_i, ev_f, r)
                    put(ev_i, ev_f, r, kind, ldir, tag, la_idx, i, top, bottom, sweet)
                    ev_i[r, R0] = lref
                    r += 1
            if invalid:
                has_leg = False
            elif ldir > 0 and hi > lb:
                lb = hi
            elif ldir < 0 and li < lb:
                lb = li
        for q in range(brk_n[i]):
            d = brk[i, q, 0]
            a_c = brk[i, q, 4]
            b_c = brk[i, q, 5]
            if d > 0:
                a = lo[a_c]
                b = h[b_c]
                top = b
                bottom = a
            else:
                a = h[a_c]
                b = lo[b_c]
                top = a
                bottom = b
            ev_i, ev_f = room(ev_i, ev_f, r)
            put(ev_i, ev_f, r, K_IMPULSE_LEG, d, tag, a_c, i, top, bottom, NAN)
            ev_f[r, F0] = a
            ev_f[r, F1] = b
            ev_i[r, R0] = brk[i, q, 1]
            has_leg = True
            ldir = d
            la = a
            la_idx = a_c
            lb = b
            lref = base | r
            lstart = i
            lentered = False
            lexceeded = False
            r += 1
    return ev_i, ev_f, r
