"""Fractal pivots, alternating swing streams and market structure (ict-spec §1, §2).

Ports of ``core/swings.py`` and ``ict/structure.py``. Candle tuples of the Python engine are candle
indexes here (the kernels keep the whole series).
"""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
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


@rule
def _accept_pivot(ev_i, ev_f, r, d, level, p, i, last_type, has, lvl, ref, prev_has, prev_lvl, tag, base):  # type: ignore[no-untyped-def]
    """§1 alternation for a pivot of direction ``d`` at ``p``: accepted after the other side (labelled
    against the previous accepted pivot of its side), or replacing the current one when more extreme
    (``swing_superseded``), else logged unaccepted. Side state per row 0 (high) / 1 (low) is updated in
    place; at most two rows (the caller made room). Returns (r, event ref of the accepted pivot or −1)."""
    s = 0 if d > 0 else 1
    kind = K_SWING_HIGH if d > 0 else K_SWING_LOW
    if last_type != d:
        label = _label(d, level, has[s], lvl[s])
        put(ev_i, ev_f, r, kind, d, tag, p, i, NAN, NAN, level)
        ev_i[r, B0] = 1
        ev_i[r, I0] = label
        accepted = base | r
        prev_has[s] = has[s]
        prev_lvl[s] = lvl[s]
        has[s] = True
        lvl[s] = level
        ref[s] = accepted
        return r + 1, accepted
    if not (level > lvl[s] if d > 0 else level < lvl[s]):
        put(ev_i, ev_f, r, kind, d, tag, p, i, NAN, NAN, level)
        return r + 1, -1
    label = _label(d, level, prev_has[s], prev_lvl[s])
    put(ev_i, ev_f, r, kind, d, tag, p, i, NAN, NAN, level)
    ev_i[r, B0] = 1
    ev_i[r, I0] = label
    accepted = base | r
    put(ev_i, ev_f, r + 1, K_SWING_SUPERSEDED, d, tag, p, i, NAN, NAN, level)
    ev_i[r + 1, R0] = ref[s]
    ev_i[r + 1, R1] = accepted
    lvl[s] = level
    ref[s] = accepted
    return r + 2, accepted


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
    # current and previous accepted pivot per side (0 high, 1 low): exists, level, event ref
    has = np.zeros(2, np.bool_)
    lvl = np.zeros(2, np.float64)
    ref = np.full(2, -1, np.int64)
    prev_has = np.zeros(2, np.bool_)
    prev_lvl = np.zeros(2, np.float64)
    for i in range(n):
        is_high, is_low = pivot_at(h, lo, i, left, right)
        if not (is_high or is_low):
            continue
        p = i - right
        ev_i, ev_f = room(ev_i, ev_f, r + 3)  # two pivots, two rows each at most
        # both at one candle: the side opposite to the last accepted pivot first
        first = -1 if not is_high or (is_low and last_type == 1) else 1
        for q in range(2 if is_high and is_low else 1):
            d = first if q == 0 else -first
            level = h[p] if d > 0 else lo[p]
            r, accepted = _accept_pivot(ev_i, ev_f, r, d, level, p, i, last_type, has, lvl, ref, prev_has, prev_lvl,
                                        tag, base)
            if accepted >= 0:
                last_type = d
                k = acc_n[i]
                acc_dir[i, k] = d
                acc_level[i, k] = level
                acc_anchor[i, k] = p
                acc_ref[i, k] = accepted
                acc_n[i] = k + 1
    return ev_i, ev_f, r, acc_n, acc_dir, acc_level, acc_anchor, acc_ref


@rule
def _follow_leg(a, b, i, origin_beaten, extreme_beaten):  # type: ignore[no-untyped-def]
    """§2 leg a → b of a standing reference at candle ``i``: a new origin (and extreme) when the candle
    beats the origin (a lower-or-equal low for a high reference, a higher-or-equal high for a low one),
    else a new extreme when it beats it. Scalars only: no array reference to count."""
    if origin_beaten:
        return i, i
    if extreme_beaten:
        return a, i
    return a, b


@rule
def _log_break(ev_i, ev_f, r, ref, level, side, trend, i, last_disp, taken_up, taken_dn, require_sweep, brk,  # type: ignore[no-untyped-def]
               brk_n, tag, base):
    """§2 break of reference ``ref`` at ``i``: BOS (with the trend) or CHoCH (against it; MSS when a
    displacement since the leg origin and, if required, a sweep of the opposite liquidity between the
    swing and the origin), and the break row §4 / §6 read (the caller made room). Returns r + 1."""
    is_choch = trend == -side
    origin = ref[5]
    mss = False
    if is_choch and last_disp >= origin:
        mss = True
        if require_sweep:
            confirms = taken_dn if side > 0 else taken_up
            at = np.searchsorted(confirms, ref[2])
            mss = at < confirms.shape[0] and confirms[at] <= origin
    put(ev_i, ev_f, r, K_CHOCH if is_choch else K_BOS, side, tag, ref[2], i, NAN, NAN, level)
    ev_i[r, R0] = ref[4]
    ev_i[r, I0] = ref[2]
    ev_i[r, I1] = ref[3]
    ev_i[r, B0] = 1 if trend == 0 else 0
    ev_i[r, B1] = 1 if mss else 0
    ref[1] = 1
    k = brk_n[i]
    brk[i, k, 0] = side
    brk[i, k, 1] = base | r
    brk[i, k, 2] = ref[2]
    brk[i, k, 3] = ref[7] if ref[7] >= 0 else ref[8]
    brk[i, k, 4] = ref[5]
    brk[i, k, 5] = ref[6]
    brk[i, k, 6] = 1 if is_choch else 0
    brk_n[i] = k + 1
    return r + 1


@rule
def _block_candle(k, i, opposite_close, beats_k):  # type: ignore[no-untyped-def]
    """§4 order-block candle candidate of a standing reference: candle ``i`` replaces ``k`` when it
    qualifies (``opposite_close``) and is none yet or at least as extreme (``beats_k``)."""
    return i if opposite_close and (k < 0 or beats_k) else k


@rule
def _register_swing(ref, d, s, i, o, h, lo, c, event):  # type: ignore[no-untyped-def]
    """The swing of direction ``d`` anchored at ``s`` and confirmed at ``i`` becomes the reference of its
    side, its leg and order-block candles seeded from candles s + 1 … i."""
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
    ref[4] = event
    ref[5] = a
    ref[6] = b
    ref[7] = k_close
    ref[8] = k_any


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
        if hr[0]:
            a, b = _follow_leg(hr[5], hr[6], i, li <= lo[hr[5]], hi > h[hr[6]])
            hr[5] = a
            hr[6] = b
        if lr[0]:
            a, b = _follow_leg(lr[5], lr[6], i, hi >= h[lr[5]], li < lo[lr[6]])
            lr[5] = a
            lr[6] = b
        # Step A: breaks against references standing at i − 1 (room made only for a break: per candle it
        # would cost a reference-counted call on every candle)
        if hr[0] and not hr[1] and (hi if wick else ci) > h_level:
            ev_i, ev_f = room(ev_i, ev_f, r + 1)
            r = _log_break(ev_i, ev_f, r, hr, h_level, 1, trend, i, last_disp_up[i], taken_up, taken_dn,
                           require_sweep, brk, brk_n, tag, base)
            trend = 1
        if lr[0] and not lr[1] and (li if wick else ci) < l_level:
            ev_i, ev_f = room(ev_i, ev_f, r + 1)
            r = _log_break(ev_i, ev_f, r, lr, l_level, -1, trend, i, last_disp_dn[i], taken_up, taken_dn,
                           require_sweep, brk, brk_n, tag, base)
            trend = -1
        # order-block candidates now cover [anchor + 1, i]
        if hr[0]:  # (k < 0: the index guard is evaluated after the read, which stays in bounds)
            hr[7] = _block_candle(hr[7], i, ci < o[i], li <= lo[hr[7]])
            hr[8] = _block_candle(hr[8], i, True, li <= lo[hr[8]])
        if lr[0]:
            lr[7] = _block_candle(lr[7], i, ci > o[i], hi >= h[lr[7]])
            lr[8] = _block_candle(lr[8], i, True, hi >= h[lr[8]])
        # Step B: register swings confirmed at i (seeded from the candles since the anchor)
        for q in range(acc_n[i]):
            d = acc_dir[i, q]
            _register_swing(hr if d > 0 else lr, d, acc_anchor[i, q], i, o, h, lo, c, acc_ref[i, q])
            if d > 0:
                h_level = acc_level[i, q]
            else:
                l_level = acc_level[i, q]
    return ev_i, ev_f, r, brk_n, brk
