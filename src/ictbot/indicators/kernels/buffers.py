"""Compiled helpers: growable event matrices and a binary min-heap on (key, seq, version)."""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.codes import (
    ANCHOR,
    B0,
    B1,
    BOTTOM,
    CONFIRM,
    DIR,
    F0,
    F1,
    I0,
    I1,
    KIND,
    LEVEL,
    NF,
    NI,
    R0,
    R1,
    TAG,
    TOP,
)

NAN = np.nan


@jit
def new_events(cap):  # type: ignore[no-untyped-def]
    return np.empty((max(cap, 16), NI), np.int32), np.empty((max(cap, 16), NF), np.float64)


@jit
def room(ev_i, ev_f, r):  # type: ignore[no-untyped-def]
    """The matrices, doubled when row ``r`` does not fit."""
    old = ev_i.shape[0]
    if r < old:
        return ev_i, ev_f
    cap = max(old * 2, r + 16)
    gi = np.empty((cap, NI), np.int32)
    gf = np.empty((cap, NF), np.float64)
    gi[:old] = ev_i
    gf[:old] = ev_f
    return gi, gf


@jit
def put(ev_i, ev_f, r, kind, direction, tag, anchor, confirm, top, bottom, level):  # type: ignore[no-untyped-def]
    ev_i[r, KIND] = kind
    ev_i[r, DIR] = direction
    ev_i[r, TAG] = tag
    ev_i[r, ANCHOR] = anchor
    ev_i[r, CONFIRM] = confirm
    ev_i[r, I0] = 0
    ev_i[r, I1] = 0
    ev_i[r, R0] = -1
    ev_i[r, R1] = -1
    ev_i[r, B0] = 0
    ev_i[r, B1] = 0
    ev_f[r, TOP] = top
    ev_f[r, BOTTOM] = bottom
    ev_f[r, LEVEL] = level
    ev_f[r, F0] = NAN
    ev_f[r, F1] = NAN


@jit
def _less(hk, hs, hv, a, b):  # type: ignore[no-untyped-def]
    if hk[a] != hk[b]:
        return hk[a] < hk[b]
    if hs[a] != hs[b]:
        return hs[a] < hs[b]
    return hv[a] < hv[b]


@jit
def _swap(hk, hs, hv, a, b):  # type: ignore[no-untyped-def]
    hk[a], hk[b] = hk[b], hk[a]
    hs[a], hs[b] = hs[b], hs[a]
    hv[a], hv[b] = hv[b], hv[a]


@jit
def heap_push(hk, hs, hv, size, key, seq, ver):  # type: ignore[no-untyped-def]
    """Push; returns the new size (capacity is the caller's bound)."""
    k = size
    hk[k] = key
    hs[k] = seq
    hv[k] = ver
    while k > 0:
        parent = (k - 1) >> 1
        if _less(hk, hs, hv, k, parent):
            _swap(hk, hs, hv, k, parent)
            k = parent
        else:
            break
    return size + 1


@jit
def heap_pop(hk, hs, hv, size):  # type: ignore[no-untyped-def]
    """Remove the root (read it before calling); returns the new size."""
    size -= 1
    if size > 0:
        hk[0] = hk[size]
        hs[0] = hs[size]
        hv[0] = hv[size]
        k = 0
        while True:
            left = 2 * k + 1
            if left >= size:
                break
            best = left
            right = left + 1
            if right < size and _less(hk, hs, hv, right, left):
                best = right
            if _less(hk, hs, hv, best, k):
                _swap(hk, hs, hv, best, k)
                k = best
            else:
                break
    return size


@jit
def heap_room(hk, hs, hv, size):  # type: ignore[no-untyped-def]
    """The heap arrays, doubled when one more entry does not fit."""
    if size < hk.shape[0]:
        return hk, hs, hv
    cap = hk.shape[0] * 2
    gk = np.empty(cap, np.float64)
    gs = np.empty(cap, np.int64)
    gv = np.empty(cap, np.int64)
    gk[:size] = hk[:size]
    gs[:size] = hs[:size]
    gv[:size] = hv[:size]
    return gk, gs, gv


@jit
def grow_f(a, n):  # type: ignore[no-untyped-def]
    if n < a.shape[0]:
        return a
    g = np.empty(a.shape[0] * 2, a.dtype)
    g[:n] = a[:n]
    return g


@jit
def grow_i(a, n):  # type: ignore[no-untyped-def]
    if n < a.shape[0]:
        return a
    g = np.empty(a.shape[0] * 2, a.dtype)
    g[:n] = a[:n]
    return g


@jit
def evict_overflow(max_active, active_up, active_dn, order_up, order_dn, hup, hdn, zalive, zdir,  # type: ignore[no-untyped-def]
                   found):
    """``ZoneBook.overflow``: the oldest alive zones beyond ``max_active`` per direction, marked dead,
    in ``found[:ne]`` by zone number (creation order). Returns (ne, hup, hdn, active_up, active_dn)."""
    ne = 0
    excess = active_up - max_active
    while excess > 0:
        z = order_up[hup]
        hup += 1
        if zalive[z]:
            found[ne] = z
            ne += 1
            excess -= 1
    excess = active_dn - max_active
    while excess > 0:
        z = order_dn[hdn]
        hdn += 1
        if zalive[z]:
            found[ne] = z
            ne += 1
            excess -= 1
    if ne > 1:
        found[:ne].sort()
    for q in range(ne):
        z = found[q]
        zalive[z] = False
        if zdir[z] > 0:
            active_up -= 1
        else:
            active_dn -= 1
    return ne, hup, hdn, active_up, active_dn
