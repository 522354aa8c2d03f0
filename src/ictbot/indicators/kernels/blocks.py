"""Order blocks and breakers (ict-spec §4) per structure stream; re-exports ``pd_kernel`` (§6).

Port of ``ict/order_blocks.py``; zones live in the flat ``zone_book.ZoneBook``. One helper per rule:

* ``_choch_at`` — the CHoCHs of the candle per direction (strict breakers, §4 (b));
* ``_block_transition`` — an order block the candle reached: touch, mean-threshold violation,
  invalidation (body or wick) and, on invalidation, the breaker rule: at once (not strict), or with the
  liquidity sweep (a) and a CHoCH already in [j − w, j] (b), or pending for a CHoCH until j + w;
* ``_breaker_transition`` — a breaker's touch and invalidation;
* ``_open_breaker`` — the ``breaker`` event and zone from an invalidated block (direction flipped);
* ``_pending_breakers`` — strict breakers waiting for their CHoCH;
* ``_new_blocks`` — a block per break from its order-block candle (one alive block per candle and
  direction; displacement / FVG flags; the sweep (a) noted for the strict rule);
* ``_evict_blocks`` — the ``max_active`` cap per direction (oldest alive first).
"""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import new_events, put, room
from ictbot.indicators.kernels.codes import (
    B0,
    B1,
    F0,
    I0,
    K_BREAKER,
    K_BREAKER_EVICTED,
    K_BREAKER_INVALIDATED,
    K_BREAKER_TOUCHED,
    K_OB_EVICTED,
    K_OB_INVALIDATED,
    K_OB_MT_VIOLATED,
    K_OB_TOUCHED,
    K_ORDER_BLOCK,
    R0,
    REF_SHIFT,
)
from ictbot.indicators.kernels.premium_discount import pd_kernel
from ictbot.indicators.kernels.zone_book import (
    C_ACTIVE_DN,
    C_ACTIVE_UP,
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
ROLE_BLOCK = 0
ROLE_BREAKER = 1
NEVER = -(10**18)

__all__ = ["ob_kernel", "pd_kernel"]


@rule
def _choch_at(brk, j, nb):  # type: ignore[no-untyped-def]
    """(bullish CHoCH, bearish CHoCH) among the candle's breaks."""
    choch_up = False
    choch_dn = False
    for q in range(nb):
        if brk[j, q, 6] == 1:
            if brk[j, q, 0] > 0:
                choch_up = True
            else:
                choch_dn = True
    return choch_up, choch_dn


@rule
def _block_transition(ev_i, ev_f, r, b, cnt, z, j, lj, hj, cj, tag, wick_invalidation, strict, mss_window,  # type: ignore[no-untyped-def]
                      last_choch_up, last_choch_dn, alive_at, pend_zone, pend_j, npend):
    """§4 for an order block the candle reached. Returns (r, npend, breaker now: the block or −1)."""
    up = b.dir[z] > 0
    r = touch_once(ev_i, ev_f, r, b, z, j, lj, hj, K_OB_TOUCHED, tag)
    if not b.midhit[z] and (cj < b.mid[z] if up else cj > b.mid[z]):
        b.midhit[z] = True
        zone_event(ev_i, ev_f, r, K_OB_MT_VIOLATED, z, j, tag, b)
        r += 1
    beyond = (lj if up else hj) if wick_invalidation else cj
    if not beyond_far_edge(b, z, beyond):
        requeue_at_next_edge(b, cnt, z, True)
        return r, npend, -1
    close_zone(b, cnt, z)
    alive_at[0 if up else 1, b.anchor[z]] = False
    zone_event(ev_i, ev_f, r, K_OB_INVALIDATED, z, j, tag, b)
    r += 1
    if not strict:
        return r, npend, z
    if b.swept[z]:  # (a) held: the breaker needs (b) a CHoCH against the block
        b.swept[z] = False
        last = last_choch_dn if up else last_choch_up
        if last >= j - mss_window:  # (b) CHoCH already in [j − w, j]
            return r, npend, z
        if mss_window > 0:
            pend_zone[npend] = z
            pend_j[npend] = j
            npend += 1
    return r, npend, -1


@rule
def _breaker_transition(ev_i, ev_f, r, b, cnt, z, j, lj, hj, cj, tag):  # type: ignore[no-untyped-def]
    """§4 for a breaker the candle reached: touch (once), invalidation by a close beyond."""
    r = touch_once(ev_i, ev_f, r, b, z, j, lj, hj, K_BREAKER_TOUCHED, tag)
    if beyond_far_edge(b, z, cj):
        close_zone(b, cnt, z)
        zone_event(ev_i, ev_f, r, K_BREAKER_INVALIDATED, z, j, tag, b)
        return r + 1
    requeue_at_next_edge(b, cnt, z, False)
    return r


@rule
def _open_breaker(ev_i, ev_f, r, b, cnt, p, j, tag, base):  # type: ignore[no-untyped-def]
    """§4: the invalidated block ``p`` becomes a breaker of the opposite direction."""
    put(ev_i, ev_f, r, K_BREAKER, -b.dir[p], tag, b.anchor[p], j, b.top[p], b.bottom[p], NAN)
    ev_f[r, F0] = b.mid[p]
    ev_i[r, R0] = b.event[p]
    open_zone(b, cnt, -b.dir[p], ROLE_BREAKER, b.top[p], b.bottom[p], b.mid[p], b.anchor[p], j, base | r)
    return r + 1


@rule
def _pending_breakers(ev_i, ev_f, r, b, cnt, j, choch_up, choch_dn, mss_window, pend_zone, pend_j, npend, tag,  # type: ignore[no-untyped-def]
                      base):
    """Strict breakers (§4 (b)) waiting for a CHoCH against their block until j + ``mss_window``:
    opened on it, dropped after the window; returns (r, npend)."""
    keep = 0
    for q in range(npend):
        z = pend_zone[q]
        jz = pend_j[q]
        if jz == j:  # invalidated this candle: its CHoCH was checked already
            pend_zone[keep] = z
            pend_j[keep] = jz
            keep += 1
        elif j > jz + mss_window:
            continue
        elif (choch_dn if b.dir[z] > 0 else choch_up):
            r = _open_breaker(ev_i, ev_f, r, b, cnt, z, j, tag, base)
        elif j < jz + mss_window:
            pend_zone[keep] = z
            pend_j[keep] = jz
            keep += 1
    return r, keep


@rule
def _new_blocks(ev_i, ev_f, r, b, cnt, j, o, h, lo, c, brk, nb, body, strict, last_disp_up,  # type: ignore[no-untyped-def]
                last_disp_dn, last_fvg_up, last_fvg_dn, taken_up, taken_dn, alive_at, tag, base):
    """§4: an order block per break of candle ``j`` on its order-block candle k (none while a block of
    that direction on k is alive); B0 = displacement after k, B1 = FVG after k + 1."""
    for q in range(nb):
        d = brk[j, q, 0]
        k = brk[j, q, 3]
        side = 0 if d > 0 else 1
        if alive_at[side, k]:
            continue
        top = max(o[k], c[k]) if body else h[k]
        bottom = min(o[k], c[k]) if body else lo[k]
        mt = (top + bottom) / 2.0
        put(ev_i, ev_f, r, K_ORDER_BLOCK, d, tag, k, j, top, bottom, NAN)
        ev_f[r, F0] = mt
        ev_i[r, R0] = brk[j, q, 1]
        ev_i[r, I0] = brk[j, q, 2]
        ev_i[r, B0] = 1 if (last_disp_up[j] if d > 0 else last_disp_dn[j]) >= k + 1 else 0
        ev_i[r, B1] = 1 if (last_fvg_up[j] if d > 0 else last_fvg_dn[j]) >= k + 2 else 0
        w = open_zone(b, cnt, d, ROLE_BLOCK, top, bottom, mt, k, j, base | r)
        r += 1
        if strict:  # (a) liquidity on the block's own side taken in [k + 1, j]
            confirms = taken_up if d > 0 else taken_dn
            at = np.searchsorted(confirms, k + 1)
            b.swept[w] = at < confirms.shape[0] and confirms[at] <= j
        alive_at[side, k] = True
    return r


@jit  # sorts (numba's sort needs reference counting)
def _evict_blocks(ev_i, ev_f, r, b, cnt, max_active, j, alive_at, tag):  # type: ignore[no-untyped-def]
    """§4 cap (``ZoneBook.overflow``): the oldest alive zones beyond ``max_active`` per direction."""
    ne = evict_beyond(b, cnt, max_active)
    for q in range(ne):
        z = b.found[q]
        if b.role[z] == ROLE_BLOCK:
            alive_at[0 if b.dir[z] > 0 else 1, b.anchor[z]] = False
            b.swept[z] = False
        kind = K_OB_EVICTED if b.role[z] == ROLE_BLOCK else K_BREAKER_EVICTED
        zone_event(ev_i, ev_f, r, kind, z, j, tag, b)
        r += 1
    return r


@jit
def ob_kernel(t, o, h, lo, c, brk_n, brk, last_disp_up, last_disp_dn, last_fvg_up, last_fvg_dn, taken_up,  # type: ignore[no-untyped-def]
              taken_dn, body, wick_invalidation, strict, mss_window, max_active, tag, slot):
    """Events of §4 for one stream (``max_active`` < 0 = None)."""
    n = t.shape[0]
    ev_i, ev_f = new_events(n + 64)
    r = 0
    base = slot << REF_SHIFT
    b, cnt = new_book(2 * n + 16)
    found = b.found  # the kernel reads these per candle: locals, not tuple fields (no reference counting)
    role = b.role
    alive_at = np.zeros((2, n), np.bool_)  # an alive order block of that direction (0 up, 1 down) on candle k
    last_choch_up = NEVER
    last_choch_dn = NEVER
    pend_zone = np.empty(2 * n + 16, np.int64)
    pend_j = np.empty(2 * n + 16, np.int64)
    npend = 0
    for j in range(n):
        # room for every event this candle can log: 4 per zone transition (touch, MT, invalidation,
        # breaker), pending breakers, new blocks, evictions <= zones alive after those (one check per candle)
        ev_i, ev_f = room(ev_i, ev_f, r + 5 * active(cnt) + 2 * npend + 8)
        lj = lo[j]
        hj = h[j]
        cj = c[j]
        nb = brk_n[j]
        choch_up, choch_dn = _choch_at(brk, j, nb)
        if strict and choch_up:
            last_choch_up = j
        if strict and choch_dn:
            last_choch_dn = j
        nf = collect_reached(b, cnt, lj, hj)
        if nf > 1:
            found[:nf].sort()
        for q in range(nf):
            z = found[q]
            if role[z] == ROLE_BREAKER:
                r = _breaker_transition(ev_i, ev_f, r, b, cnt, z, j, lj, hj, cj, tag)
                continue
            r, npend, parent = _block_transition(ev_i, ev_f, r, b, cnt, z, j, lj, hj, cj, tag, wick_invalidation,
                                                 strict, mss_window, last_choch_up, last_choch_dn, alive_at,
                                                 pend_zone, pend_j, npend)
            if parent >= 0:
                r = _open_breaker(ev_i, ev_f, r, b, cnt, parent, j, tag, base)
        if npend > 0:
            r, npend = _pending_breakers(ev_i, ev_f, r, b, cnt, j, choch_up, choch_dn, mss_window, pend_zone, pend_j,
                                         npend, tag, base)
        r = _new_blocks(ev_i, ev_f, r, b, cnt, j, o, h, lo, c, brk, nb, body, strict, last_disp_up, last_disp_dn,
                        last_fvg_up, last_fvg_dn, taken_up, taken_dn, alive_at, tag, base)
        if max_active >= 0 and (cnt[C_ACTIVE_UP] > max_active or cnt[C_ACTIVE_DN] > max_active):
            r = _evict_blocks(ev_i, ev_f, r, b, cnt, max_active, j, alive_at, tag)
    return ev_i, ev_f, r
