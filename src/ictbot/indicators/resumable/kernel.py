"""Compiled body of the resumable ATR + displacement + FVG section (prototype, #20 item 8).

The same rules, in the same order inside a candle, as ``kernels/fvg.py`` (batch) and
``core/atr.py`` + ``ict/fvg.py`` (streaming); the difference is that every variable the batch kernel
keeps in locals lives in the arrays of a state, so the loop can stop after any candle and resume.
Rows of the state matrices are named in ``layout.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ictbot.indicators.kernels.buffers import evict_overflow, heap_pop, heap_push, put, room
from ictbot.indicators.kernels.codes import (
    F0,
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
    REF_SHIFT,
    T_NONE,
)
from ictbot.indicators.resumable._jit import jit
from ictbot.indicators.resumable.layout import (
    ACT_DN,
    ACT_UP,
    ATR_COUNT,
    ATR_N,
    ATR_PREV_CLOSE,
    ATR_SEED,
    ATR_VALUE,
    DISP_PREV,
    DSIZE,
    EXP_HEAD,
    HDN,
    HEAP_DN,
    HEAP_DN_SEQ,
    HEAP_DN_VER,
    HEAP_UP,
    HEAP_UP_SEQ,
    HEAP_UP_VER,
    HUP,
    K_ATR,
    K_BODY,
    MAX_ACTIVE,
    MAX_AGE,
    MERGE_ADJACENT,
    MIN_BODY_RATIO,
    MIN_SIZE,
    NDN,
    NEXT_I,
    NUP,
    NZ,
    ORDER_DN,
    ORDER_FOUND,
    ORDER_UP,
    PREV_GAP,
    REQUIRE_BODY,
    REQUIRE_CLOSE,
    REQUIRE_DISP,
    ROWS,
    SLOT,
    USIZE,
    Z_ALIVE,
    Z_ANCHOR,
    Z_ATIME,
    Z_BOT,
    Z_CONFIRM,
    Z_DIR,
    Z_EVENT,
    Z_FILLED,
    Z_MID,
    Z_MIDHIT,
    Z_ROLE,
    Z_THR,
    Z_TOP,
    Z_TOUCHED,
    Z_VER,
)

NAN = np.nan


@jit
def _zone_event(ev_i, ev_f, row, kind, z, j, zi, zf):  # type: ignore[no-untyped-def]
    put(ev_i, ev_f, row, kind, zi[Z_DIR, z], T_NONE, zi[Z_ANCHOR, z], j, zf[Z_TOP, z], zf[Z_BOT, z], NAN)
    ev_f[row, F0] = zf[Z_MID, z]
    ev_i[row, R0] = zi[Z_EVENT, z]


@jit
def _advance_atr(s, sf, pi, o, h, lo, c):  # type: ignore[no-untyped-def]
    """One candle of Wilder's ATR and of §9's displacement direction; returns (atr after, disp before)."""
    atr_prev = sf[ATR_VALUE]
    d = 1 if c > o else -1 if c < o else 0
    body = abs(c - o)
    disp = 0
    if d != 0 and not math.isnan(atr_prev) and body / (h - lo) >= sf[MIN_BODY_RATIO] \
            and body >= sf[K_BODY] * atr_prev:
        disp = d
    count = s[ATR_COUNT]
    tr = h - lo if count == 0 else max(h - lo, abs(h - sf[ATR_PREV_CLOSE]), abs(lo - sf[ATR_PREV_CLOSE]))
    sf[ATR_PREV_CLOSE] = c
    count += 1
    s[ATR_COUNT] = count
    n = pi[ATR_N]
    if count < n:
        sf[ATR_SEED] += tr
    elif count == n:
        sf[ATR_SEED] += tr
        sf[ATR_VALUE] = sf[ATR_SEED] / n
    else:
        sf[ATR_VALUE] = (sf[ATR_VALUE] * (n - 1) + tr) / n
    disp_before = s[DISP_PREV]
    s[DISP_PREV] = disp
    return sf[ATR_VALUE], disp_before


@jit
def queue_zone(s, heap_k, heap_i, z, up, threshold, version):  # type: ignore[no-untyped-def]
    """Queue zone ``z`` at its next rule price: a bullish zone (``up``) waits for price to come down to
    ``threshold`` (key negated in the down-candidates heap), a bearish one for price to come up."""
    if up:
        s[DSIZE] = heap_push(heap_k[HEAP_DN], heap_i[HEAP_DN_SEQ], heap_i[HEAP_DN_VER], s[DSIZE], -threshold, z,
                             version)
    else:
        s[USIZE] = heap_push(heap_k[HEAP_UP], heap_i[HEAP_UP_SEQ], heap_i[HEAP_UP_VER], s[USIZE], threshold, z,
                             version)


@jit
def _pop_reached(hk, hs, hv, size, bound, zi, found, nf):  # type: ignore[no-untyped-def]
    """Pop every heap entry with key <= ``bound``; live, current ones go to ``found``. (size, nf) after."""
    while size > 0 and hk[0] <= bound:
        z = hs[0]
        v = hv[0]
        size = heap_pop(hk, hs, hv, size)
        if zi[Z_ALIVE, z] != 0 and zi[Z_VER, z] == v:
            zi[Z_VER, z] += 1
            found[nf] = z
            nf += 1
    return size, nf


@jit
def _new_zone(s, zi, zf, heap_k, heap_i, order, role, d, top, bottom, mid, anchor, atime, i, event):  # type: ignore[no-untyped-def]
    """Append a live zone and queue it in its direction's heap; returns its number."""
    w = s[NZ]
    s[NZ] = w + 1
    zi[Z_DIR, w] = d
    zi[Z_ROLE, w] = role
    zi[Z_ANCHOR, w] = anchor
    zi[Z_ATIME, w] = atime
    zi[Z_CONFIRM, w] = i
    zi[Z_EVENT, w] = event
    zi[Z_TOUCHED, w] = 0
    zi[Z_MIDHIT, w] = 0
    zi[Z_FILLED, w] = 0
    zi[Z_ALIVE, w] = 1
    zi[Z_VER, w] = 1
    zf[Z_TOP, w] = top
    zf[Z_BOT, w] = bottom
    zf[Z_MID, w] = mid
    if d > 0:
        order[ORDER_UP, s[NUP]] = w
        s[NUP] += 1
        s[ACT_UP] += 1
        zf[Z_THR, w] = top
    else:
        order[ORDER_DN, s[NDN]] = w
        s[NDN] += 1
        s[ACT_DN] += 1
        zf[Z_THR, w] = bottom
    queue_zone(s, heap_k, heap_i, w, d > 0, zf[Z_THR, w], 1)
    return w


@jit
def _candidates(s, pi, zi, heap_k, heap_i, order, i, hi, li):  # type: ignore[no-untyped-def]
    """``ZoneBook.candidates``: zones whose next rule price reach, plus zones expiring now, in creation order."""
    found = order[ORDER_FOUND]
    # the down heap's keys are negated thresholds: "low reaches down to it" is key <= -low
    s[DSIZE], nf = _pop_reached(heap_k[HEAP_DN], heap_i[HEAP_DN_SEQ], heap_i[HEAP_DN_VER], s[DSIZE], -li, zi,
                                found, 0)
    s[USIZE], nf = _pop_reached(heap_k[HEAP_UP], heap_i[HEAP_UP_SEQ], heap_i[HEAP_UP_VER], s[USIZE], hi, zi,
                                found, nf)
    max_age = pi[MAX_AGE]
    if max_age >= 0:
        while s[EXP_HEAD] < s[NZ] and zi[Z_CONFIRM, s[EXP_HEAD]] + max_age <= i:
            z = s[EXP_HEAD]
            s[EXP_HEAD] += 1
            if zi[Z_ALIVE, z] != 0 and zi[Z_CONFIRM, z] + max_age == i:
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
    return nf


@jit
def _kill(s, zi, z):  # type: ignore[no-untyped-def]
    zi[Z_ALIVE, z] = 0
    if zi[Z_DIR, z] > 0:
        s[ACT_UP] -= 1
    else:
        s[ACT_DN] -= 1


@jit
def _transition(s, pi, zi, zf, heap_k, heap_i, order, ev_i, ev_f, base, z, i, hi, li, ci):  # type: ignore[no-untyped-def]
    """§3 lifecycle of zone ``z`` at candle ``i``: touch, CE, fill, invalidation (→ inverse gap), expiry."""
    up = zi[Z_DIR, z] > 0
    fvg = zi[Z_ROLE, z] == 0
    top, bot, mid = zf[Z_TOP, z], zf[Z_BOT, z], zf[Z_MID, z]
    if zi[Z_TOUCHED, z] == 0 and (li <= top if up else hi >= bot):
        zi[Z_TOUCHED, z] = 1
        _zone_event(ev_i, ev_f, s[ROWS] - base, K_FVG_TOUCHED if fvg else K_IFVG_TOUCHED, z, i, zi, zf)
        s[ROWS] += 1
    if fvg and zi[Z_MIDHIT, z] == 0 and (li <= mid if up else hi >= mid):
        zi[Z_MIDHIT, z] = 1
        _zone_event(ev_i, ev_f, s[ROWS] - base, K_FVG_CE_TOUCHED, z, i, zi, zf)
        s[ROWS] += 1
    if fvg and zi[Z_FILLED, z] == 0 and (li <= bot if up else hi >= top):
        zi[Z_FILLED, z] = 1
        _zone_event(ev_i, ev_f, s[ROWS] - base, K_FVG_FILLED, z, i, zi, zf)
        s[ROWS] += 1
    if ci < bot if up else ci > top:
        _kill(s, zi, z)
        _zone_event(ev_i, ev_f, s[ROWS] - base, K_FVG_INVALIDATED if fvg else K_IFVG_INVALIDATED, z, i, zi, zf)
        s[ROWS] += 1
        if fvg:  # the inverse gap (§3)
            row = s[ROWS] - base
            put(ev_i, ev_f, row, K_IFVG, -zi[Z_DIR, z], T_NONE, zi[Z_ANCHOR, z], i, top, bot, NAN)
            ev_f[row, F0] = mid
            ev_i[row, R0] = zi[Z_EVENT, z]
            _new_zone(s, zi, zf, heap_k, heap_i, order, 1, -zi[Z_DIR, z], top, bot, mid, zi[Z_ANCHOR, z],
                      zi[Z_ATIME, z], i, (pi[SLOT] << REF_SHIFT) | s[ROWS])
            s[ROWS] += 1
        return
    if pi[MAX_AGE] >= 0 and i == zi[Z_CONFIRM, z] + pi[MAX_AGE]:
        _kill(s, zi, z)
        _zone_event(ev_i, ev_f, s[ROWS] - base, K_FVG_EXPIRED if fvg else K_IFVG_EXPIRED, z, i, zi, zf)
        s[ROWS] += 1
        return
    touched = zi[Z_TOUCHED, z] != 0
    if fvg:
        mid_hit = zi[Z_MIDHIT, z] != 0
        if up:
            zf[Z_THR, z] = top if not touched else mid if not mid_hit else bot
        else:
            zf[Z_THR, z] = bot if not touched else mid if not mid_hit else top
    else:
        zf[Z_THR, z] = (top if not touched else bot) if up else (bot if not touched else top)
    zi[Z_VER, z] += 1
    queue_zone(s, heap_k, heap_i, z, up, zf[Z_THR, z], zi[Z_VER, z])


@jit
def _gap_direction(pi, sf, o, h, lo, c, i, atr_now, disp_prev):  # type: ignore[no-untyped-def]
    """§3 formation test at candle ``i``: (direction or 0, top, bottom)."""
    hi, li = h[i], lo[i]
    ha, la = h[i - 2], lo[i - 2]
    ob, cb = o[i - 1], c[i - 1]
    d, top, bottom = 0, 0.0, 0.0
    if li > ha:
        d, top, bottom = 1, li, ha
        if (pi[REQUIRE_BODY] != 0 and not cb > ob) or (pi[REQUIRE_CLOSE] != 0 and not cb > ha):
            d = 0
    elif hi < la:
        d, top, bottom = -1, la, hi
        if (pi[REQUIRE_BODY] != 0 and not cb < ob) or (pi[REQUIRE_CLOSE] != 0 and not cb < la):
            d = 0
    if d != 0 and sf[MIN_SIZE] != 0.0 and top - bottom < sf[MIN_SIZE]:
        d = 0
    if d != 0 and sf[K_ATR] != 0.0 and (math.isnan(atr_now) or top - bottom < sf[K_ATR] * atr_now):
        d = 0
    if d != 0 and pi[REQUIRE_DISP] != 0 and disp_prev != d:
        d = 0
    return d, top, bottom


@jit
def _form(s, pi, sf, zi, zf, heap_k, heap_i, order, ev_i, ev_f, base, t, o, h, lo, c, i, atr_now, disp_prev):  # type: ignore[no-untyped-def]
    gap = -1
    if i >= 2:
        d, top, bottom = _gap_direction(pi, sf, o, h, lo, c, i, atr_now, disp_prev)
        if d != 0:
            ce = (top + bottom) / 2.0
            row = s[ROWS] - base
            put(ev_i, ev_f, row, K_FVG, d, T_NONE, i - 1, i, top, bottom, NAN)
            ev_f[row, F0] = ce
            gap = _new_zone(s, zi, zf, heap_k, heap_i, order, 0, d, top, bottom, ce, i - 1, t[i - 1], i,
                            (pi[SLOT] << REF_SHIFT) | s[ROWS])
            s[ROWS] += 1
            prev = s[PREV_GAP]
            if pi[MERGE_ADJACENT] != 0 and prev >= 0 and zi[Z_DIR, prev] == d and bottom <= zf[Z_TOP, prev] \
                    and top >= zf[Z_BOT, prev]:
                row = s[ROWS] - base
                put(ev_i, ev_f, row, K_FVG_EXTENDED, d, T_NONE, i - 1, i, max(top, zf[Z_TOP, prev]),
                    min(bottom, zf[Z_BOT, prev]), NAN)
                ev_i[row, R0] = zi[Z_EVENT, prev]
                s[ROWS] += 1
    s[PREV_GAP] = gap


@jit
def _evict(s, pi, zi, zf, order, ev_i, ev_f, base, i):  # type: ignore[no-untyped-def]
    """``ZoneBook.overflow``: the oldest live zones beyond ``max_active`` per direction."""
    ne, hup, hdn, act_up, act_dn = evict_overflow(
        pi[MAX_ACTIVE], s[ACT_UP], s[ACT_DN], order[ORDER_UP], order[ORDER_DN], s[HUP], s[HDN], zi[Z_ALIVE],
        zi[Z_DIR], order[ORDER_FOUND])
    s[HUP], s[HDN], s[ACT_UP], s[ACT_DN] = hup, hdn, act_up, act_dn
    for q in range(ne):
        z = order[ORDER_FOUND, q]
        kind = K_FVG_EVICTED if zi[Z_ROLE, z] == 0 else K_IFVG_EVICTED
        _zone_event(ev_i, ev_f, s[ROWS] - base, kind, z, i, zi, zf)
        s[ROWS] += 1


@jit
def step_range_kernel(t, o, h, lo, c, i0, i1, pi, s, sf, zi, zf, heap_k, heap_i, order, ev_i, ev_f, base):  # type: ignore[no-untyped-def]
    """Candles ``i0 .. i1-1`` (column indexes = absolute candle indexes); events go to rows
    ``s[ROWS] - base`` on. Returns the (maybe regrown) event matrices. Zone capacity is the caller's."""
    for i in range(i0, i1):
        ev_i, ev_f = room(ev_i, ev_f, s[ROWS] - base + 6 * (s[ACT_UP] + s[ACT_DN]) + 8)
        hi, li, ci = h[i], lo[i], c[i]
        atr_now, disp_prev = _advance_atr(s, sf, pi, o[i], hi, li, ci)
        nf = _candidates(s, pi, zi, heap_k, heap_i, order, i, hi, li)
        for q in range(nf):
            _transition(s, pi, zi, zf, heap_k, heap_i, order, ev_i, ev_f, base, order[ORDER_FOUND, q], i, hi, li,
                        ci)
        _form(s, pi, sf, zi, zf, heap_k, heap_i, order, ev_i, ev_f, base, t, o, h, lo, c, i, atr_now, disp_prev)
        if pi[MAX_ACTIVE] >= 0 and (s[ACT_UP] > pi[MAX_ACTIVE] or s[ACT_DN] > pi[MAX_ACTIVE]):
            _evict(s, pi, zi, zf, order, ev_i, ev_f, base, i)
    s[NEXT_I] = i1
    return ev_i, ev_f
