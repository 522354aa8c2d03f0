"""Compaction of the resumable FVG state: dead zones dropped, live ones renumbered in creation order.

Renumbering keeps the relative order of zone numbers, which is all the rules read from them (the
per-candle candidate sort, the heaps' tie-break, the eviction queues), so no event changes.
"""

from __future__ import annotations

from ictbot.indicators.resumable._jit import jit
from ictbot.indicators.resumable.kernel import queue_zone
from ictbot.indicators.resumable.layout import (
    DSIZE,
    EXP_HEAD,
    HDN,
    HUP,
    N_ZF,
    N_ZI,
    NDN,
    NUP,
    NZ,
    ORDER_DN,
    ORDER_UP,
    PREV_GAP,
    USIZE,
    Z_ALIVE,
    Z_DIR,
    Z_THR,
    Z_VER,
)


@jit
def compact_kernel(s, zi, zf, heap_k, heap_i, order):  # type: ignore[no-untyped-def]
    """Keep live zones and the previous candle's gap (``merge_adjacent`` reads it even when dead)."""
    prev = s[PREV_GAP]
    w = 0
    new_prev = -1
    for z in range(s[NZ]):
        if zi[Z_ALIVE, z] == 0 and z != prev:
            continue
        if z == prev:
            new_prev = w
        for row in range(N_ZI):
            zi[row, w] = zi[row, z]
        for row in range(N_ZF):
            zf[row, w] = zf[row, z]
        w += 1
    s[NZ] = w
    s[PREV_GAP] = new_prev
    s[EXP_HEAD] = 0
    s[NUP] = 0
    s[NDN] = 0
    s[HUP] = 0
    s[HDN] = 0
    s[DSIZE] = 0
    s[USIZE] = 0
    for z in range(w):
        if zi[Z_ALIVE, z] == 0:
            continue
        # a live zone has exactly one valid heap entry, at its current version
        if zi[Z_DIR, z] > 0:
            order[ORDER_UP, s[NUP]] = z
            s[NUP] += 1
        else:
            order[ORDER_DN, s[NDN]] = z
            s[NDN] += 1
        queue_zone(s, heap_k, heap_i, z, zi[Z_DIR, z] > 0, zf[Z_THR, z], zi[Z_VER, z])
