"""Fractal pivots, alternating swing streams and market structure (ict-spec §1, §2).

Ports of ``core/swings.py`` and ``ict/structure.py``. Candle tuples of the Python engine are candle
indexes here (the kernels keep the whole series).
"""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.buffers import new_events, put, room
from ictbot.indicators.kernels.codes import (
    B0,
    B1,
    I0,
    I1,
    K_BOS,
    K_CHOCH,
    K_SWING_HIGH,
    K_SWING_LOW,
    K_SWING_SUPERSEDED,
    R0,
    R1,
    REF_SHIFT,
)

NAN = np.nan


@jit
def pivot_at(h, lo, i, left, right):  # type: ignore[no-untyped-def]
    """(pivot high, pivot low) at p = i − right judged at i: strict left, non-strict right (§1)."""
    p = i - right
    if p < left:
        return False, False
    hp = h[p]
    lp = lo[p]
    is_high = hp > h[p - 1] and hp >= h[p + 1]
    if is_high:
        for k in range(p + 2, p + right + 1):
            if h[k] > hp:
                is_high = False
                break
    if is_high:
        for k in range(p - left, p - 1):
            if h[k] >= hp:
                is_high = False
                break
    is_low = lp < lo[p - 1] and lp <= lo[p + 1]
    if is_low:
        for k in range(p + 2, p + right + 1):
            if lo[k] < lp:
                is_low = False
                break
    if is_low:
        for k in range(p - left, p - 1):
            if lo[k] <= lp:
                is_low = False
                break
    return is_high, is_low


@jit
def _label(direction, level, has_prev, prev_level):  # type: ignore[no-untyped-def]
    if not has_prev:
        return 0
    if level == prev_level:
        return 5 if direction > 0 else 6
    if direction > 0:
        return 1 if level > prev_level else 2
    return 3 if level < prev_level else 4


@jit
def swing_kernel(t, h, lo, left, right, tag, slot):  # type: ignore[no-untyped-def]
    """Swing events of one stream and its accepted pivots per candle (up to two)."""
    n = t.shape[0]
    ev_i, ev_f = new_events(n // 2 + 64)
    r = 0
    base = slot << REF_SHIFT
    acc_n = np.zeros(n, np.int64)
    acc_dir = np.empty((n, 2), np.int64)
    acc_level = np.empty((n, 2), np.float64)
    acc_anchor = np.empty((n, 2), np.int64)
    acc_ref = np.empty((n, 2), np.int64)
    last_type = 0
    # current and previous accepted pivot per side: (exists, level, event ref)
    hi_has = False
    hi_level = 0.0
    hi_ref = -1
    phi_has = False
    phi_level = 0.0
    lo_has = False
    lo_level = 0.0
    lo_ref = -1
    plo_has = False
    plo_level = 0.0
    order = np.zeros(2, np.int64)
    for i in range(n):
        is_high, is_low = pivot_at(h, lo, i, left, right)
        if not (is_high or is_low):
            continue
        p = i - right
        m = 0
        if is_high and is_low:
            if last_type == 1:
                order[0], order[1] = -1, 1
            else:
                order[0], order[1] = 1, -1
            m = 2
        elif is_high:
            order[0] = 1
            m = 1
        else:
            order[0] = -1
            m = 1
        for q in range(m):
            d = order[q]
            level = h[p] if d > 0 else lo[p]
            kind = K_SWING_HIGH if d > 0 else K_SWING_LOW
            cur_has = hi_has if d > 0 else lo_has
            cur_level = hi_level if d > 0 else lo_level
            cur_ref = hi_ref if d > 0 else lo_ref
            accepted = False
            if last_type != d:
                label = _label(d, level, cur_has, cur_level)
                ev_i, ev_f = room(ev_i, ev_f, r)
                put(ev_i, ev_f, r, kind, d, tag, p, i, NAN, NAN, level)
                ev_i[r, B0] = 1
                ev_i[r, I0] = label
                ref = base | r
                r += 1
                if d > 0:
                    phi_has, phi_level = hi_has, hi_level
                    hi_has, hi_level, hi_ref = True, level, ref
                else:
                    plo_has, plo_level = lo_has, lo_level
                    lo_has, lo_level, lo_ref = True, level, ref
                last_type = d
                accepted = True
            else:
                better = level > cur_level if d > 0 else level < cur_level
                if not better:
                    ev_i, ev_f = room(ev_i, ev_f, r)
                    put(ev_i, ev_f, r, kind, d, tag, p, i, NAN, NAN, level)
                    r += 1
                else:
                    label = _label(d, level, phi_has if d > 0 else plo_has, phi_level if d > 0 else plo_level)
                    ev_i, ev_f = room(ev_i, ev_f, r + 1)
                    put(ev_i, ev_f, r, kind, d, tag, p, i, NAN, NAN, level)
                    ev_i[r, B0] = 1
                    ev_i[r, I0] = label
                    ref = base | r
                    r += 1
                    put(ev_i, ev_f, r, K_SWING_SUPERSEDED, d, tag, p, i, NAN, NAN, level)
                    ev_i[r, R0] = cur_ref
                    ev_i[r, R1] = ref
                    r += 1
                    if d > 0:
                        hi_level, hi_ref = level, ref
                    else:
                        lo_level, lo_ref = level, ref
                    accepted = True
            if accepted:
                k = acc_n[i]
                acc_dir[i, k] = d
                acc_level[i, k] = level
                acc_anchor[i, k] = p
                acc_ref[i, k] = ref
                acc_n[i] = k + 1
    return ev_i, ev_f, r, acc_n, acc_dir, acc_level, acc_anchor, acc_ref


@jit
def structure_kernel(t, o, h, lo, c, acc_n, acc_dir, acc_level, acc_anchor, acc_ref, last_disp_up,  # type: ignore[no-untyped-def]
                     last_disp_dn, taken_up, taken_dn, wick, require_sweep, tag, slot):
    """BOS / CHoCH of one stream and, per break, what §4 and §6 need (candle indexes).

    Breaks (at most two per candle, in log order): ``brk_n[i]``, then per break direction, event ref,
    swing anchor, order-block candle, leg origin ``a`` and leg extreme ``b``, kind (1 = choch).
    """
    n = t.shape[0]
    ev_i, ev_f = new_events(n // 4 + 64)
    r = 0
    base = slot << REF_SHIFT
    brk_n = np.zeros(n, np.int64)
    brk = np.empty((n, 2, 7), np.int64)
    trend = 0
    # references: [exists, broken, anchor, confirm, ref, a, b, k_close, k_any] + level
    hr = np.zeros(9, np.int64)
    lr = np.zeros(9, np.int64)
    h_level = 0.0
    l_level = 0.0
    for i in range(n):
        hi = h[i]
        li = lo[i]
        ci = c[i]
        oi = o[i]
        if hr[0]:
            if li <= lo[hr[5]]:
                hr[5] = i
                hr[6] = i
            elif hi > h[hr[6]]:
                hr[6] = i
        if lr[0]:
            if hi >= h[lr[5]]:
                lr[5] = i
                lr[6] = i
            elif li < lo[lr[6]]:
                lr[6] = i
        # Step A: breaks against references standing at i − 1
        for side in (1, -1):
            ref = hr if side > 0 else lr
            level = h_level if side > 0 else l_level
            if not ref[0] or ref[1]:
                continue
            crossed = (hi if wick else ci) > level if side > 0 else (li if wick else ci) < level
            if not crossed:
                continue
            is_choch = trend == -side
            origin = ref[5]
            mss = False
            last_disp = last_disp_up[i] if side > 0 else last_disp_dn[i]
            if is_choch and last_disp >= origin:
                mss = True
                if require_sweep:
                    confirms = taken_dn if side > 0 else taken_up
                    at = np.searchsorted(confirms, ref[2])
                    mss = at < confirms.shape[0] and confirms[at] <= origin
            ev_i, ev_f = room(ev_i, ev_f, r)
            put(ev_i, ev_f, r, K_CHOCH if is_choch else K_BOS, side, tag, ref[2], i, NAN, NAN, level)
            ev_i[r, R0] = ref[4]
            ev_i[r, I0] = ref[2]
            ev_i[r, I1] = ref[3]
            ev_i[r, B0] = 1 if trend == 0 else 0
            ev_i[r, B1] = 1 if mss else 0
            ref[1] = 1
            trend = side
            k = brk_n[i]
            brk[i, k, 0] = side
            brk[i, k, 1] = base | r
            brk[i, k, 2] = ref[2]
            brk[i, k, 3] = ref[7] if ref[7] >= 0 else ref[8]
            brk[i, k, 4] = ref[5]
            brk[i, k, 5] = ref[6]
            brk[i, k, 6] = 1 if is_choch else 0
            brk_n[i] = k + 1
            r += 1
        # order-block candidates now cover [anchor + 1, i]
        if hr[0]:
            if ci < oi and (hr[7] < 0 or li <= lo[hr[7]]):
                hr[7] = i
            if hr[8] < 0 or li <= lo[hr[8]]:
                hr[8] = i
        if lr[0]:
            if ci > oi and (lr[7] < 0 or hi >= h[lr[7]]):
                lr[7] = i
            if lr[8] < 0 or hi >= h[lr[8]]:
                lr[8] = i
        # Step B: register swings confirmed at i (seeded from the candles since the anchor)
        for q in range(acc_n[i]):
            d = acc_dir[i, q]
            s = acc_anchor[i, q]
            ref = hr if d > 0 else lr
            a = s
            b = s
            k_close = -1
            k_any = -1
            for k in range(s + 1, i + 1):
                if d > 0:
                    if lo[k] <= lo[a]:
                        a = k
                        b = k
                    elif h[k] > h[b]:
                        b = k
                    if c[k] < o[k] and (k_close < 0 or lo[k] <= lo[k_close]):
                        k_close = k
                    if k_any < 0 or lo[k] <= lo[k_any]:
                        k_any = k
                else:
                    if h[k] >= h[a]:
                        a = k
                        b = k
                    elif lo[k] < lo[b]:
                        b = k
                    if c[k] > o[k] and (k_close < 0 or h[k] >= h[k_close]):
                        k_close = k
                    if k_any < 0 or h[k] >= h[k_any]:
                        k_any = k
            ref[0] = 1
            ref[1] = 0
            ref[2] = s
            ref[3] = i
            ref[4] = acc_ref[i, q]
            ref[5] = a
            ref[6] = b
            ref[7] = k_close
            ref[8] = k_any
            if d > 0:
                h_level = acc_level[i, q]
            else:
                l_level = acc_level[i, q]
    return ev_i, ev_f, r, brk_n, brk
