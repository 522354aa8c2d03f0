"""The zone book of the FVG (ict-spec §3) and order-block / breaker (§4) kernels: ``ZoneBook`` of the
Python engine as flat arrays, shared by ``fvg.py`` and ``blocks.py``.

A zone is a row (index = creation order = ``Zone.seq``). Per direction a lazy-deletion heap holds the
price at which the zone's next transition can happen (``thr``): +1 zones in a max-heap on the candle low
(key negated), −1 zones in a min-heap on the candle high; a zone re-pushed with a new version makes the
older heap entries stale. ``order_up`` / ``order_dn`` list the zones by creation for the capacity rule
(oldest alive evicted first). The book's counters live in one int64 array (``C_*`` columns) so that the
per-rule helpers can update them in place (numba helpers cannot rebind a caller's scalars).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import evict_overflow, heap_pop, heap_push, put
from ictbot.indicators.kernels.codes import F0, R0

NAN = np.nan

ZoneBook = namedtuple("ZoneBook", [
    "dir", "role", "top", "bottom", "mid", "anchor", "confirm", "event",  # fixed at creation
    "touched", "midhit", "filled", "swept", "alive", "thr", "ver",  # lifecycle
    "down_key", "down_seq", "down_ver", "up_key", "up_seq", "up_ver",  # the two threshold heaps
    "order_up", "order_dn", "found",  # creation order per direction; scratch list of zones this candle
])

# counters: zones, heap sizes, creation lists (length, eviction head), alive per direction, expiry head
C_ZONES, C_DOWN_SIZE, C_UP_SIZE, C_N_UP, C_N_DN, C_HEAD_UP, C_HEAD_DN, C_ACTIVE_UP, C_ACTIVE_DN, C_EXPIRY = range(10)


@jit
def new_book(cap):  # type: ignore[no-untyped-def]
    """An empty book for at most ``cap`` zones, and its counters."""
    book = ZoneBook(np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.float64),
                    np.empty(cap, np.float64), np.empty(cap, np.float64), np.empty(cap, np.int64),
                    np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.bool_),
                    np.empty(cap, np.bool_), np.empty(cap, np.bool_), np.empty(cap, np.bool_),
                    np.empty(cap, np.bool_), np.empty(cap, np.float64), np.empty(cap, np.int64),
                    np.empty(cap, np.float64), np.empty(cap, np.int64), np.empty(cap, np.int64),
                    np.empty(cap, np.float64), np.empty(cap, np.int64), np.empty(cap, np.int64),
                    np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64))
    return book, np.zeros(10, np.int64)


@rule
def active(cnt):  # type: ignore[no-untyped-def]
    """Alive zones of both directions."""
    return cnt[C_ACTIVE_UP] + cnt[C_ACTIVE_DN]


@rule
def collect_reached(b, cnt, low, high):  # type: ignore[no-untyped-def]
    """``ZoneBook.candidates``: the zones whose threshold the candle reached, popped (current versions
    only) into ``b.found``; returns their count. Each is bumped a version, so it is re-pushed or dead."""
    nf = 0
    while cnt[C_DOWN_SIZE] > 0 and -b.down_key[0] >= low:
        z = b.down_seq[0]
        v = b.down_ver[0]
        cnt[C_DOWN_SIZE] = heap_pop(b.down_key, b.down_seq, b.down_ver, cnt[C_DOWN_SIZE])
        if b.alive[z] and b.ver[z] == v:
            b.ver[z] += 1
            b.found[nf] = z
            nf += 1
    while cnt[C_UP_SIZE] > 0 and b.up_key[0] <= high:
        z = b.up_seq[0]
        v = b.up_ver[0]
        cnt[C_UP_SIZE] = heap_pop(b.up_key, b.up_seq, b.up_ver, cnt[C_UP_SIZE])
        if b.alive[z] and b.ver[z] == v:
            b.ver[z] += 1
            b.found[nf] = z
            nf += 1
    return nf


@rule
def requeue(b, cnt, z):  # type: ignore[no-untyped-def]
    """Zone ``z`` waits for its (updated) threshold ``b.thr[z]`` under a new version."""
    b.ver[z] += 1
    if b.dir[z] > 0:
        cnt[C_DOWN_SIZE] = heap_push(b.down_key, b.down_seq, b.down_ver, cnt[C_DOWN_SIZE], -b.thr[z], z, b.ver[z])
    else:
        cnt[C_UP_SIZE] = heap_push(b.up_key, b.up_seq, b.up_ver, cnt[C_UP_SIZE], b.thr[z], z, b.ver[z])


@rule
def open_zone(b, cnt, d, role, top, bottom, mid, anchor, confirm, event):  # type: ignore[no-untyped-def]
    """A new alive zone (untouched, version 1) waiting for its near edge; returns its number."""
    w = cnt[C_ZONES]
    cnt[C_ZONES] = w + 1
    b.dir[w] = d
    b.role[w] = role
    b.top[w] = top
    b.bottom[w] = bottom
    b.mid[w] = mid
    b.anchor[w] = anchor
    b.confirm[w] = confirm
    b.event[w] = event
    b.touched[w] = False
    b.midhit[w] = False
    b.filled[w] = False
    b.swept[w] = False
    b.alive[w] = True
    b.ver[w] = 1
    if d > 0:
        b.order_up[cnt[C_N_UP]] = w
        cnt[C_N_UP] += 1
        cnt[C_ACTIVE_UP] += 1
        b.thr[w] = top
        cnt[C_DOWN_SIZE] = heap_push(b.down_key, b.down_seq, b.down_ver, cnt[C_DOWN_SIZE], -top, w, 1)
    else:
        b.order_dn[cnt[C_N_DN]] = w
        cnt[C_N_DN] += 1
        cnt[C_ACTIVE_DN] += 1
        b.thr[w] = bottom
        cnt[C_UP_SIZE] = heap_push(b.up_key, b.up_seq, b.up_ver, cnt[C_UP_SIZE], bottom, w, 1)
    return w


@rule
def close_zone(b, cnt, z):  # type: ignore[no-untyped-def]
    """Zone ``z`` is dead (invalidated or expired): no longer alive nor counted."""
    b.alive[z] = False
    if b.dir[z] > 0:
        cnt[C_ACTIVE_UP] -= 1
    else:
        cnt[C_ACTIVE_DN] -= 1


@rule
def zone_event(ev_i, ev_f, r, kind, z, j, tag, b):  # type: ignore[no-untyped-def]
    """Row ``r``: a transition of zone ``z`` at candle ``j`` (mid in F0, the zone's creating event in R0)."""
    put(ev_i, ev_f, r, kind, b.dir[z], tag, b.anchor[z], j, b.top[z], b.bottom[z], NAN)
    ev_f[r, F0] = b.mid[z]
    ev_i[r, R0] = b.event[z]


@rule
def touch_once(ev_i, ev_f, r, b, z, j, low, high, kind, tag):  # type: ignore[no-untyped-def]
    """The first candle to reach zone ``z``'s near edge (its low at or below the top of a +1 zone, its high
    at or above the bottom of a −1 zone) records the touch: one event of ``kind``. Returns the next row."""
    if not b.touched[z] and (low <= b.top[z] if b.dir[z] > 0 else high >= b.bottom[z]):
        b.touched[z] = True
        zone_event(ev_i, ev_f, r, kind, z, j, tag, b)
        return r + 1
    return r


@rule
def beyond_far_edge(b, z, price):  # type: ignore[no-untyped-def]
    """``price`` (a close, or a wick where the rule says so) lies beyond zone ``z``'s far edge: below the
    bottom of a +1 zone, above the top of a −1 zone."""
    return price < b.bottom[z] if b.dir[z] > 0 else price > b.top[z]


@rule
def requeue_at_next_edge(b, cnt, z, with_midpoint):  # type: ignore[no-untyped-def]
    """Zone ``z`` waits for its next transition: the near edge until touched, then (FVGs and order blocks)
    the midpoint until hit, then the far edge."""
    if b.dir[z] > 0:
        near, far = b.top[z], b.bottom[z]
    else:
        near, far = b.bottom[z], b.top[z]
    if not b.touched[z]:
        b.thr[z] = near
    elif with_midpoint and not b.midhit[z]:
        b.thr[z] = b.mid[z]
    else:
        b.thr[z] = far
    requeue(b, cnt, z)


@jit  # sorts (numba's sort needs reference counting)
def evict_beyond(b, cnt, max_active):  # type: ignore[no-untyped-def]
    """``ZoneBook.overflow``: the oldest alive zones beyond ``max_active`` per direction, closed, in
    ``b.found[:ne]`` by zone number; returns ``ne``."""
    ne, head_up, head_dn, active_up, active_dn = evict_overflow(
        max_active, cnt[C_ACTIVE_UP], cnt[C_ACTIVE_DN], b.order_up, b.order_dn, cnt[C_HEAD_UP], cnt[C_HEAD_DN],
        b.alive, b.dir, b.found)
    cnt[C_HEAD_UP] = head_up
    cnt[C_HEAD_DN] = head_dn
    cnt[C_ACTIVE_UP] = active_up
    cnt[C_ACTIVE_DN] = active_dn
    return ne
