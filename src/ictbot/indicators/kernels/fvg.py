"""Fair value gaps and their lifecycle (ict-spec §3); re-exports the ATR and displacement series (§0, §9).

Port of ``ict/fvg.py``: same rules, same order of events inside a candle; zones live in the flat
``zone_book.ZoneBook`` (index = creation order = ``Zone.seq``). One helper per rule of §3:

* ``_detect_gap`` — the three-candle gap and its filters (body direction, close beyond, minimum size,
  k × ATR, displacement of the middle candle); ``_form_gap`` — the ``fvg`` event, the zone, and
  ``fvg_extended`` when ``merge_adjacent`` and the previous candle's gap overlaps;
* ``_expiring`` — zones reaching ``max_age`` join the candle's candidates;
* ``_gap_transition`` — touch, consequent encroachment, fill (each once), invalidation by a close
  beyond the far edge, expiry; ``_invert`` — the inverse gap an invalidated FVG becomes;
* ``_inverse_transition`` — the inverse gap's touch, invalidation and expiry;
* ``_evict`` — the ``max_active`` cap per direction (oldest alive first).
"""

from __future__ import annotations

import math

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import new_events, put, room
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
from ictbot.indicators.kernels.displacement import (
    FAR_PAST,
    atr_series,
    displacement_direction,
    displacement_kernel,
    last_true,
)
from ictbot.indicators.kernels.zone_book import (
    C_ACTIVE_DN,
    C_ACTIVE_UP,
    C_EXPIRY,
    C_ZONES,
    active,
    beyond_far_edge,
    close_zone,
    collect_reached,
    evict_beyond,
    new_book,
    open_zone,
    requeue_at_next_edge,
    touch_once,
    zone_event,
)

NAN = np.nan
ROLE_FVG = 0
ROLE_IFVG = 1

__all__ = ["FAR_PAST", "atr_series", "displacement_direction", "displacement_kernel", "fvg_kernel", "last_true"]


@rule
def _expiring(b, cnt, nf, max_age, i):  # type: ignore[no-untyped-def]
    """§3 ``max_age``: alive zones confirmed ``max_age`` candles before ``i`` join ``b.found[:nf]`` (once);
    returns the new count. Zones are confirmed in creation order, so one head pointer walks them."""
    while cnt[C_EXPIRY] < cnt[C_ZONES] and b.confirm[cnt[C_EXPIRY]] + max_age <= i:
        z = cnt[C_EXPIRY]
        cnt[C_EXPIRY] += 1
        if b.alive[z] and b.confirm[z] + max_age == i:
            dup = False
            for q in range(nf):
                if b.found[q] == z:
                    dup = True
                    break
            if not dup:
                b.found[nf] = z
                nf += 1
    return nf


@rule
def _invert(ev_i, ev_f, r, b, cnt, z, i, tag_base):  # type: ignore[no-untyped-def]
    """§3 inversion: the invalidated gap ``z`` becomes an inverse gap of the opposite direction."""
    put(ev_i, ev_f, r, K_IFVG, -b.dir[z], T_NONE, b.anchor[z], i, b.top[z], b.bottom[z], NAN)
    ev_f[r, F0] = b.mid[z]
    ev_i[r, R0] = b.event[z]
    open_zone(b, cnt, -b.dir[z], ROLE_IFVG, b.top[z], b.bottom[z], b.mid[z], b.anchor[z], i, tag_base | r)
    return r + 1


@rule
def _gap_transition(ev_i, ev_f, r, b, cnt, z, i, li, hi, ci, max_age, tag_base):  # type: ignore[no-untyped-def]
    """§3 for an FVG the candle reached: touch, consequent encroachment, fill (each once), then
    invalidation by a close beyond the far edge (→ inverse gap) or expiry; else its next threshold."""
    up = b.dir[z] > 0
    r = touch_once(ev_i, ev_f, r, b, z, i, li, hi, K_FVG_TOUCHED, T_NONE)
    if not b.midhit[z] and (li <= b.mid[z] if up else hi >= b.mid[z]):
        b.midhit[z] = True
        zone_event(ev_i, ev_f, r, K_FVG_CE_TOUCHED, z, i, T_NONE, b)
        r += 1
    if not b.filled[z] and (li <= b.bottom[z] if up else hi >= b.top[z]):
        b.filled[z] = True
        zone_event(ev_i, ev_f, r, K_FVG_FILLED, z, i, T_NONE, b)
        r += 1
    if beyond_far_edge(b, z, ci):
        close_zone(b, cnt, z)
        zone_event(ev_i, ev_f, r, K_FVG_INVALIDATED, z, i, T_NONE, b)
        return _invert(ev_i, ev_f, r + 1, b, cnt, z, i, tag_base)
    if max_age >= 0 and i == b.confirm[z] + max_age:
        close_zone(b, cnt, z)
        zone_event(ev_i, ev_f, r, K_FVG_EXPIRED, z, i, T_NONE, b)
        return r + 1
    requeue_at_next_edge(b, cnt, z, True)
    return r


@rule
def _inverse_transition(ev_i, ev_f, r, b, cnt, z, i, li, hi, ci, max_age):  # type: ignore[no-untyped-def]
    """§3 for an inverse gap the candle reached: touch (once), invalidation by a close beyond, expiry."""
    r = touch_once(ev_i, ev_f, r, b, z, i, li, hi, K_IFVG_TOUCHED, T_NONE)
    if beyond_far_edge(b, z, ci):
        close_zone(b, cnt, z)
        zone_event(ev_i, ev_f, r, K_IFVG_INVALIDATED, z, i, T_NONE, b)
        return r + 1
    if max_age >= 0 and i == b.confirm[z] + max_age:
        close_zone(b, cnt, z)
        zone_event(ev_i, ev_f, r, K_IFVG_EXPIRED, z, i, T_NONE, b)
        return r + 1
    requeue_at_next_edge(b, cnt, z, False)
    return r


@rule
def _detect_gap(o, h, lo, c, atr, disp_dir, i, require_body, require_close, require_disp, min_size,  # type: ignore[no-untyped-def]
                k_atr):
    """§3 formation at ``i`` (i >= 2): (direction, top, bottom) of the gap between candles i − 2 and i
    after every enabled filter; direction 0 = none."""
    hi = h[i]
    li = lo[i]
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
    return d, top, bottom


@rule
def _form_gap(ev_i, ev_f, r, b, cnt, i, d, top, bottom, merge_adjacent, prev_gap, tag_base):  # type: ignore[no-untyped-def]
    """§3: the ``fvg`` event and zone anchored on the middle candle, and ``fvg_extended`` when merging
    is on and the previous candle's gap has the same direction and overlaps. Returns (r, zone)."""
    ce = (top + bottom) / 2.0
    put(ev_i, ev_f, r, K_FVG, d, T_NONE, i - 1, i, top, bottom, NAN)
    ev_f[r, F0] = ce
    w = open_zone(b, cnt, d, ROLE_FVG, top, bottom, ce, i - 1, i, tag_base | r)
    r += 1
    if merge_adjacent and prev_gap >= 0 and b.dir[prev_gap] == d and bottom <= b.top[prev_gap] \
            and top >= b.bottom[prev_gap]:
        put(ev_i, ev_f, r, K_FVG_EXTENDED, d, T_NONE, i - 1, i, max(top, b.top[prev_gap]),
            min(bottom, b.bottom[prev_gap]), NAN)
        ev_i[r, R0] = b.event[prev_gap]
        r += 1
    return r, w


@jit  # sorts (numba's sort needs reference counting)
def _evict(ev_i, ev_f, r, b, cnt, max_active, i):  # type: ignore[no-untyped-def]
    """§3 cap (``ZoneBook.overflow``): the oldest alive zones beyond ``max_active`` per direction."""
    ne = evict_beyond(b, cnt, max_active)
    for q in range(ne):
        z = b.found[q]
        kind = K_FVG_EVICTED if b.role[z] == ROLE_FVG else K_IFVG_EVICTED
        zone_event(ev_i, ev_f, r, kind, z, i, T_NONE, b)
        r += 1
    return r


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
    b, cnt = new_book(2 * n + 16)
    found = b.found  # the kernel reads these per candle: locals, not tuple fields (no reference counting)
    role = b.role
    event = b.event
    prev_gap = -1
    tag_base = slot << REF_SHIFT
    for i in range(n):
        # room for every event this candle can log: 5 per zone transition (touch, CE, fill, invalidation,
        # inverse gap), formation + extension, evictions (one capacity check per candle, not per event)
        ev_i, ev_f = room(ev_i, ev_f, r + 6 * active(cnt) + 8)
        hi = h[i]
        li = lo[i]
        ci = c[i]
        nf = collect_reached(b, cnt, li, hi)
        if max_age >= 0:
            nf = _expiring(b, cnt, nf, max_age, i)
        if nf > 1:
            found[:nf].sort()
        for q in range(nf):
            z = found[q]
            if role[z] == ROLE_FVG:
                r = _gap_transition(ev_i, ev_f, r, b, cnt, z, i, li, hi, ci, max_age, tag_base)
            else:
                r = _inverse_transition(ev_i, ev_f, r, b, cnt, z, i, li, hi, ci, max_age)
        gap = -1
        if i >= 2:
            d, top, bottom = _detect_gap(o, h, lo, c, atr, disp_dir, i, require_body, require_close, require_disp,
                                         min_size, k_atr)
            if d != 0:
                r, gap = _form_gap(ev_i, ev_f, r, b, cnt, i, d, top, bottom, merge_adjacent, prev_gap, tag_base)
                formed_ref[i] = event[gap]
                formed_dir[i] = d
        prev_gap = gap
        if max_active >= 0 and (cnt[C_ACTIVE_UP] > max_active or cnt[C_ACTIVE_DN] > max_active):
            r = _evict(ev_i, ev_f, r, b, cnt, max_active, i)
    return ev_i, ev_f, r, formed_ref, formed_dir
