"""One compiled entry point for the whole batch suite (``suite_kernel``).

numba loads each compiled function it is asked for from its disk cache separately; 13 kernels called
one by one from Python cost ≈ 0.5 s of cache loading per process (one LLVM object each, plus their
own helpers' copies). ``suite_kernel`` calls every section kernel in the dependency order of
``TimeframeEngine.step`` and merges their events, so a process loads one object that holds all of
them. Its cache entry embeds the callees' code from other modules: ``_jit.jit`` keys every cache entry
on a digest of all kernel sources, so an edited callee is never served from a stale entry.

The section kernels are called by name with the arguments ``batch.compute_columns`` used to pass them
from Python; the parameters come as three named tuples of plain scalars (``ZoneArgs`` ...), built by
``batch`` from ``IndicatorParams``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.blocks import ob_kernel, pd_kernel
from ictbot.indicators.kernels.calendar import previous_kernel, session_kernel
from ictbot.indicators.kernels.codes import (
    NF,
    NI,
    SLOT_DISPLACEMENT,
    SLOT_FVG,
    SLOT_LIQUIDITY,
    SLOT_OB,
    SLOT_PD,
    SLOT_PREVIOUS,
    SLOT_SESSIONS,
    SLOT_STRUCTURE,
    SLOT_SWINGS,
    T_INTERNAL,
    T_SWING,
)
from ictbot.indicators.kernels.fvg import atr_series, displacement_direction, displacement_kernel, fvg_kernel, last_true
from ictbot.indicators.kernels.liquidity import liquidity_kernel
from ictbot.indicators.kernels.merge import merge_kernel
from ictbot.indicators.kernels.swings import structure_kernel, swing_kernel


class ZoneArgs(NamedTuple):
    """ATR, displacement and FVG parameters (``None`` limits as −1)."""

    atr_length: int
    k_body: float
    min_body_ratio: float
    require_body_direction: bool
    require_close_beyond: bool
    require_displacement: bool
    min_size: float
    k_atr: float
    max_age: int
    merge_adjacent: bool
    max_active: int
    max_leg: int
    k_leg: float


class LiquidityArgs(NamedTuple):
    """Liquidity parameters (``k_exc`` NaN = None) and the timeframe in ms (sessions)."""

    tf_ms: int
    left: int
    right: int
    k_atr: float
    k_bps: float
    sweep_window: int
    k_exc: float


class StructureArgs(NamedTuple):
    """Per stream (internal, swing): on / off and pivot widths; structure, order block and premium /
    discount parameters (``pd_stream``: 0 internal, 1 swing; ``None`` limits as −1)."""

    internal_on: bool
    swing_on: bool
    internal_left: int
    internal_right: int
    swing_left: int
    swing_right: int
    wick_break: bool
    require_sweep: bool
    ob_body_zone: bool
    ob_wick_invalidation: bool
    breaker_requires_mss: bool
    mss_window: int
    ob_max_active: int
    pd_stream: int
    ote_low: float
    ote_high: float
    sweet_spot: float


@jit
def _zone_sections(t, o, h, lo, c, za):  # type: ignore[no-untyped-def]
    """ATR, displacement candles, FVG and displacement events (events cut to the rows written)."""
    atr = atr_series(h, lo, c, za.atr_length)
    atr_prev = np.empty_like(atr)
    if atr.shape[0] > 0:
        atr_prev[0] = np.nan
        atr_prev[1:] = atr[:-1]
    disp_dir = displacement_direction(o, h, lo, c, atr_prev, za.k_body, za.min_body_ratio)
    fvg_i, fvg_f, r, formed_ref, formed_dir = fvg_kernel(
        t, o, h, lo, c, atr, disp_dir, za.require_body_direction, za.require_close_beyond, za.require_displacement,
        za.min_size, za.k_atr, za.max_age, za.merge_adjacent, za.max_active, SLOT_FVG)
    fvg_i, fvg_f = fvg_i[:r].copy(), fvg_f[:r].copy()
    disp_i, disp_f, r = displacement_kernel(t, o, h, lo, c, atr_prev, disp_dir, formed_ref, formed_dir, za.max_leg,
                                            za.k_leg, SLOT_DISPLACEMENT)
    zones = (last_true(disp_dir, 1), last_true(disp_dir, -1), last_true(formed_dir, 1), last_true(formed_dir, -1))
    return atr, zones, fvg_i, fvg_f, disp_i[:r].copy(), disp_f[:r].copy()


@jit
def _liquidity_sections(t, o, h, lo, c, atr, starts, ends, windows, enabled, rank, la):  # type: ignore[no-untyped-def]
    """Previous periods, sessions and liquidity: their events (cut) and what the later sections need."""
    prev_i, prev_f, r, pv_i, pv_f = previous_kernel(t, o, h, lo, starts, ends, SLOT_PREVIOUS)
    prev_i, prev_f = prev_i[:r].copy(), prev_f[:r].copy()
    w_starts, w_ends, w_first, w_tags = windows
    sess_i, sess_f, r, ss_i, ss_f = session_kernel(t, h, lo, la.tf_ms, w_starts, w_ends, w_first, w_tags,
                                                   SLOT_SESSIONS)
    sess_i, sess_f = sess_i[:r].copy(), sess_f[:r].copy()
    liq_i, liq_f, r, members, taken_up, taken_dn, lv_i, ver_i, ver_f = liquidity_kernel(
        t, h, lo, c, atr, la.left, la.right, la.k_atr, la.k_bps, la.sweep_window, la.k_exc, enabled, rank, pv_i, pv_f,
        ss_i, ss_f, SLOT_LIQUIDITY)
    events = (prev_i, prev_f, sess_i, sess_f, liq_i[:r].copy(), liq_f[:r].copy())
    return events, members, taken_up, taken_dn, lv_i, ver_i, ver_f


@jit
def _stream_sections(t, o, h, lo, c, zones, taken_up, taken_dn, sa, k):  # type: ignore[no-untyped-def]
    """Stream ``k`` (0 internal, 1 swing): swings → structure → order blocks, and premium / discount when
    it is ``sa.pd_stream``; each pair of event matrices cut to its rows (empty when not run)."""
    last_disp_up, last_disp_dn, last_fvg_up, last_fvg_dn = zones
    tag = T_INTERNAL if k == 0 else T_SWING
    left = sa.internal_left if k == 0 else sa.swing_left
    right = sa.internal_right if k == 0 else sa.swing_right
    sw_i, sw_f, r, acc_n, acc_dir, acc_level, acc_anchor, acc_ref = swing_kernel(t, h, lo, left, right, tag,
                                                                                 SLOT_SWINGS[k])
    sw_i, sw_f = sw_i[:r].copy(), sw_f[:r].copy()
    st_i, st_f, r, brk_n, brk = structure_kernel(
        t, o, h, lo, c, acc_n, acc_dir, acc_level, acc_anchor, acc_ref, last_disp_up, last_disp_dn, taken_up,
        taken_dn, sa.wick_break, sa.require_sweep, tag, SLOT_STRUCTURE[k])
    st_i, st_f = st_i[:r].copy(), st_f[:r].copy()
    ob_i, ob_f, r = ob_kernel(
        t, o, h, lo, c, brk_n, brk, last_disp_up, last_disp_dn, last_fvg_up, last_fvg_dn, taken_up, taken_dn,
        sa.ob_body_zone, sa.ob_wick_invalidation, sa.breaker_requires_mss, sa.mss_window, sa.ob_max_active, tag,
        SLOT_OB[k])
    ob_i, ob_f = ob_i[:r].copy(), ob_f[:r].copy()
    pd_i = np.empty((0, NI), np.int32)
    pd_f = np.empty((0, NF), np.float64)
    if k == sa.pd_stream:
        pd_i, pd_f, r = pd_kernel(t, h, lo, c, brk_n, brk, sa.ote_low, sa.ote_high, sa.sweet_spot, tag, SLOT_PD)
        pd_i, pd_f = pd_i[:r].copy(), pd_f[:r].copy()
    return sw_i, sw_f, st_i, st_f, ob_i, ob_f, pd_i, pd_f


@jit
def _streams(t, o, h, lo, c, zones, taken_up, taken_dn, sa):  # type: ignore[no-untyped-def]
    """Both streams' sections (a stream that is off: empty matrices) as (swing ints, swing floats,
    structure ..., order blocks ..., premium / discount ...), each a pair indexed by stream."""
    empty_i = np.empty((0, NI), np.int32)
    empty_f = np.empty((0, NF), np.float64)
    internal = (empty_i, empty_f, empty_i, empty_f, empty_i, empty_f, empty_i, empty_f)
    swing = internal
    if sa.internal_on:
        internal = _stream_sections(t, o, h, lo, c, zones, taken_up, taken_dn, sa, 0)
    if sa.swing_on:
        swing = _stream_sections(t, o, h, lo, c, zones, taken_up, taken_dn, sa, 1)
    pd = internal if sa.pd_stream == 0 else swing
    return internal, swing, pd[6], pd[7]


@jit
def suite_kernel(t, o, h, lo, c, starts, ends, windows, enabled, rank, za, la, sa):  # type: ignore[no-untyped-def]
    """Every section, then the merge: (ints, floats, slot, n) of the log, the pool members, the liquidity
    level / version arrays (lv_i, ver_i, ver_f) and the per-slot int matrices with their row counts (the
    level table maps parents through them)."""
    atr, zones, fvg_i, fvg_f, disp_i, disp_f = _zone_sections(t, o, h, lo, c, za)
    events, members, taken_up, taken_dn, lv_i, ver_i, ver_f = _liquidity_sections(t, o, h, lo, c, atr, starts, ends,
                                                                                 windows, enabled, rank, la)
    prev_i, prev_f, sess_i, sess_f, liq_i, liq_f = events
    internal, swing, pd_i, pd_f = _streams(t, o, h, lo, c, zones, taken_up, taken_dn, sa)
    # in slot order (codes.SLOT_*): swings ×2, structure ×2, FVG, order blocks ×2, liquidity, premium /
    # discount, previous periods, sessions, displacement
    parts_i = (internal[0], swing[0], internal[2], swing[2], fvg_i, internal[4], swing[4], liq_i, pd_i, prev_i,
               sess_i, disp_i)
    parts_f = (internal[1], swing[1], internal[3], swing[3], fvg_f, internal[5], swing[5], liq_f, pd_f, prev_f,
               sess_f, disp_f)
    counts = np.empty(len(parts_i), np.int64)
    for slot in range(len(parts_i)):
        counts[slot] = parts_i[slot].shape[0]
    ints, floats, slot_col, ids_n = merge_kernel(parts_i, parts_f, counts, t.shape[0])
    return ints, floats, slot_col, ids_n, members, lv_i, ver_i, ver_f, parts_i, counts
