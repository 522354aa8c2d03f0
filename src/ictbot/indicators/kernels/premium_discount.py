"""Impulse legs and their optimal trade entry transitions (ict-spec §6), per ``pd_stream``.

Event part of ``ict/premium_discount.py`` (the dealing-range series is not computed here). Rule helpers:
``_ote_box`` (§6 OTE zone of the standing leg and the candle's entered / exceeded / invalidated tests),
``_leg_event`` (one OTE transition row).
"""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import new_events, put, room
from ictbot.indicators.kernels.codes import (
    F0,
    F1,
    K_IMPULSE_LEG,
    K_LEG_INVALIDATED,
    K_OTE_ENTERED,
    K_OTE_EXCEEDED,
    R0,
    REF_SHIFT,
)

NAN = np.nan


@rule
def _ote_box(ldir, la, lb, ote_low, ote_high, sweet_spot, hi, li, ci):  # type: ignore[no-untyped-def]
    """§6 for the leg a → b of direction ``ldir``: (top, bottom, sweet spot) of its OTE zone and whether
    the candle entered it, closed beyond it (exceeded) or traded beyond the origin (invalidated)."""
    if ldir > 0:
        rng = lb - la
        top = lb - ote_low * rng
        bottom = lb - ote_high * rng
        sweet = lb - sweet_spot * rng
        return top, bottom, sweet, li <= top, ci < bottom, li < la
    rng = la - lb
    top = lb + ote_high * rng
    bottom = lb + ote_low * rng
    sweet = lb + sweet_spot * rng
    return top, bottom, sweet, hi >= bottom, ci > top, hi > la


@jit
def _leg_event(ev_i, ev_f, r, kind, ldir, tag, la_idx, i, top, bottom, sweet, lref):  # type: ignore[no-untyped-def]
    ev_i, ev_f = room(ev_i, ev_f, r)
    put(ev_i, ev_f, r, kind, ldir, tag, la_idx, i, top, bottom, sweet)
    ev_i[r, R0] = lref
    return ev_i, ev_f, r + 1


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
        if has_leg and lstart < i:
            top, bottom, sweet, entered, exceeded, invalid = _ote_box(ldir, la, lb, ote_low, ote_high, sweet_spot,
                                                                      hi, li, c[i])
            if entered and not lentered:
                lentered = True
                ev_i, ev_f, r = _leg_event(ev_i, ev_f, r, K_OTE_ENTERED, ldir, tag, la_idx, i, top, bottom, sweet, lref)
            if exceeded and not lexceeded:
                lexceeded = True
                ev_i, ev_f, r = _leg_event(ev_i, ev_f, r, K_OTE_EXCEEDED, ldir, tag, la_idx, i, top, bottom, sweet,
                                           lref)
            if invalid:
                ev_i, ev_f, r = _leg_event(ev_i, ev_f, r, K_LEG_INVALIDATED, ldir, tag, la_idx, i, top, bottom, sweet,
                                           lref)
                has_leg = False
            elif ldir > 0 and hi > lb:  # the leg extends with a new extreme
                lb = hi
            elif ldir < 0 and li < lb:
                lb = li
        for q in range(brk_n[i]):  # every break starts a new impulse leg a → b
            d = brk[i, q, 0]
            la_idx = brk[i, q, 4]
            la = lo[la_idx] if d > 0 else h[la_idx]
            lb = h[brk[i, q, 5]] if d > 0 else lo[brk[i, q, 5]]
            ev_i, ev_f = room(ev_i, ev_f, r)
            put(ev_i, ev_f, r, K_IMPULSE_LEG, d, tag, la_idx, i, lb if d > 0 else la, la if d > 0 else lb, NAN)
            ev_f[r, F0] = la
            ev_f[r, F1] = lb
            ev_i[r, R0] = brk[i, q, 1]
            has_leg = True
            ldir = d
            lref = base | r
            lstart = i
            lentered = False
            lexceeded = False
            r += 1
    return ev_i, ev_f, r
