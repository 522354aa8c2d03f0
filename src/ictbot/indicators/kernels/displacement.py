"""ATR (ict-spec §0) and displacement candles and legs (§9).

Ports of ``core/atr.py`` and ``ict/displacement.py``. ``atr_series``, ``displacement_direction`` and
``last_true`` are per-candle series the other sections read; ``displacement_kernel`` logs §9's events.
Rule helpers: ``_leg_at`` (§9 displacement leg: the smallest qualifying start of a same-direction run).
"""

from __future__ import annotations

import math

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import new_events, put, room
from ictbot.indicators.kernels.codes import (
    F0,
    F1,
    I0,
    K_DISPLACEMENT,
    K_DISPLACEMENT_LEG,
    K_DISPLACEMENT_WITH_FVG,
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


@rule
def _leg_at(o, h, lo, c, atr_prev, i, first, k_leg):  # type: ignore[no-untyped-def]
    """§9 displacement leg ending at ``i``: the smallest start ``s >= first`` whose summed bodies reach
    ``k_leg`` × ATR before ``s``. Returns (s, body sum, top, bottom, ATR before s); s = −1 when none."""
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
        return s, body_sum, top, bottom, atr_before
    return -1, 0.0, 0.0, 0.0, 0.0


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
    last_end = np.full(2, -1, np.int64)  # end of the last leg per direction (0 = up, 1 = down)
    run_up = 0
    run_dn = 0
    for i in range(n):
        ev_i, ev_f = room(ev_i, ev_f, r + 2)  # at most three rows per candle
        if last_ref >= 0 and formed_ref[i] >= 0 and formed_dir[i] == last_dir:
            put(ev_i, ev_f, r, K_DISPLACEMENT_WITH_FVG, last_dir, T_NONE, i - 1, i, NAN, NAN, NAN)
            ev_i[r, R0] = last_ref
            ev_i[r, R1] = formed_ref[i]
            r += 1
        last_ref = -1
        d = disp_dir[i]
        if d != 0:
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
            side = 0 if cd > 0 else 1
            first = max(i - max_leg + 1, last_end[side] + 1, i - (run_up if cd > 0 else run_dn) + 1)
            s, body_sum, top, bottom, atr_before = _leg_at(o, h, lo, c, atr_prev, i, first, k_leg)
            if s >= 0:
                put(ev_i, ev_f, r, K_DISPLACEMENT_LEG, cd, T_NONE, s, i, top, bottom, NAN)
                ev_i[r, I0] = i - s + 1
                ev_f[r, F0] = body_sum
                ev_f[r, F1] = atr_before
                r += 1
                last_end[side] = i
    return ev_i, ev_f, r
