"""The compiled batch suite: section kernels chained in the dependency order of ``TimeframeEngine.step``.

Every section kernel folds its state machine over the whole series and hands arrays to the next
(ATR → displacement candles → FVG → displacement events → previous periods → sessions → liquidity →
per stream: swings → structure → order blocks, premium / discount); the per-section event matrices
are then merged into the log order of ict-spec §0.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.kernels.blocks import ob_kernel, pd_kernel
from ictbot.indicators.kernels.calendar import period_table, previous_kernel, session_kernel, session_tables
from ictbot.indicators.kernels.codes import (
    CONFIRM,
    N_SLOTS,
    NF,
    NI,
    REF_SHIFT,
    SLOT_DISPLACEMENT,
    SLOT_FVG,
    SLOT_LIQUIDITY,
    SLOT_OB,
    SLOT_PD,
    SLOT_PREVIOUS,
    SLOT_SESSIONS,
    SLOT_STRUCTURE,
    SLOT_SWINGS,
    SOURCE_RANK,
    TAGS,
    T,
)
from ictbot.indicators.kernels.fvg import atr_series, displacement_direction, displacement_kernel, fvg_kernel, last_true
from ictbot.indicators.kernels.liquidity import liquidity_kernel
from ictbot.indicators.kernels.merge import merge_kernel
from ictbot.indicators.kernels.swings import structure_kernel, swing_kernel
from ictbot.indicators.params import IndicatorParams, SwingParams, params_hash

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]


@dataclass(frozen=True)
class LevelTable:
    """Liquidity level versions for snapshot replay, one row per (level, price) pushed testable.

    A version shows from candle ``birth`` up to, not including, ``death`` (taken or superseded by the
    level's next price; ``n`` = never): ``birth == death`` never shows. ``seq`` = the level's creation
    sequence (§5 sort key), ``source`` = tag code, ``confirm`` = candle that created the level, ``parent``
    = final row of the creating pool / period / session event (−1 = none).
    """

    seq: I64
    birth: I64
    death: I64
    side: I64
    source: I64
    anchor_time: I64
    confirm: I64
    parent: I64
    price: F64

    @staticmethod
    def empty() -> LevelTable:
        none = np.zeros(0, np.int64)
        return LevelTable(none, none, none, none, none, none, none, none, np.zeros(0, np.float64))

    def __len__(self) -> int:
        return int(self.seq.shape[0])


@dataclass
class KernelColumns:
    """Events as columns in log order: ``ints[:, codes.KIND ...]``, ``floats[:, codes.TOP ...]``.

    ``slot`` = producing section slot, ``n`` = id counter, refs (R0/R1) = final rows; pool members in
    ``members`` (pool rows: I0 = offset, I1 = count); ``levels``: the liquidity level versions.
    """

    ints: I32
    floats: F64
    slot: I8
    n: I32
    members: I64
    open_time: I64
    tf: str
    tf_ms: int
    hashes: tuple[str, ...]
    stream_tags: tuple[str, ...]
    cpu: dict[str, float] = field(default_factory=dict)
    levels: LevelTable = field(default_factory=LevelTable.empty)

    def __len__(self) -> int:
        return int(self.ints.shape[0])


@functools.lru_cache(maxsize=64)
def slot_hashes(p: IndicatorParams) -> tuple[str, ...]:
    """``params_hash`` of each slot, exactly as ``TimeframeEngine`` computes it per indicator."""
    s = p.structure
    structure_hash = params_hash(s, p.atr, p.displacement)
    ob_hash = params_hash(p.order_blocks, s, p.fvg, p.displacement)
    hashes = [""] * N_SLOTS
    for k, name in enumerate(("internal", "swing")):
        sp = s.stream_params(name)
        hashes[SLOT_SWINGS[k]] = params_hash(SwingParams(sp.left, sp.right))
        hashes[SLOT_STRUCTURE[k]] = structure_hash
        hashes[SLOT_OB[k]] = ob_hash
    hashes[SLOT_FVG] = params_hash(p.fvg, p.atr, p.displacement)
    hashes[SLOT_LIQUIDITY] = params_hash(p.liquidity, p.atr, p.previous_period, p.sessions)
    hashes[SLOT_PD] = params_hash(p.premium_discount, s)
    hashes[SLOT_PREVIOUS] = params_hash(p.previous_period)
    hashes[SLOT_SESSIONS] = params_hash(p.sessions)
    hashes[SLOT_DISPLACEMENT] = params_hash(p.displacement, p.atr)
    return tuple(hashes)


class _Laps:
    """CPU seconds per section name (``KernelColumns.cpu``)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.clock = time.process_time()

    def __call__(self, name: str) -> None:
        now = time.process_time()
        self.cpu[name] = self.cpu.get(name, 0.0) + now - self.clock
        self.clock = now


@dataclass(frozen=True)
class _Zones:
    """What the FVG / displacement sections hand to the later ones."""

    atr: F64
    last_disp_up: I64
    last_disp_dn: I64
    last_fvg_up: I64
    last_fvg_dn: I64


Parts = list[tuple[int, Any, Any, int]]  # (slot, int matrix, float matrix, rows) from the kernels


def compute_columns(t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
                    params: IndicatorParams | None = None) -> KernelColumns:
    """All events of ``suite.compute`` as columns (CPU seconds per section in ``cpu``).

    Each group of sections runs in its own function, so that its intermediate series are freed before
    the merge allocates the log (peak memory)."""
    p = params or IndicatorParams()
    tf = Timeframe.parse(timeframe) if isinstance(timeframe, str) else timeframe
    t = np.ascontiguousarray(t, dtype=np.int64)
    o, h, lo, c = (np.ascontiguousarray(x, dtype=np.float64) for x in (o, h, lo, c))
    n = int(t.shape[0])
    if n > 1 and not bool(np.all(t[1:] > t[:-1])):
        raise ValueError("candle open times must be strictly increasing")
    lap = _Laps()
    parts: Parts = []
    zones = _zone_sections(t, o, h, lo, c, p, parts, lap)
    members, taken_up, taken_dn, lv_i, ver_i, ver_f = _liquidity_sections(t, o, h, lo, c, tf, p, zones.atr, parts,
                                                                           lap)
    _structure_sections(t, o, h, lo, c, p, zones, taken_up, taken_dn, parts, lap)
    del zones, taken_up, taken_dn
    empty_i = np.empty((0, NI), np.int32)
    empty_f = np.empty((0, NF), np.float64)
    slot_i = [empty_i] * N_SLOTS
    slot_f = [empty_f] * N_SLOTS
    counts = np.zeros(N_SLOTS, np.int64)
    for slot, part_i, part_f, count in parts:
        slot_i[slot], slot_f[slot], counts[slot] = part_i, part_f, count
    del parts
    ints, floats, slot_col, ids_n = merge_kernel(tuple(slot_i), tuple(slot_f), counts, n)
    lap("merge")
    levels = _level_table(lv_i, ver_i, ver_f, slot_col, slot_i, counts, n)
    lap("liquidity")
    return KernelColumns(ints, floats, slot_col, ids_n, members, t, tf.value, tf.ms,
                         slot_hashes(p), ("internal", "swing", p.premium_discount.pd_stream), lap.cpu, levels)


def _zone_sections(t: I64, o: F64, h: F64, lo: F64, c: F64, p: IndicatorParams, parts: Parts, lap: _Laps) -> _Zones:
    """ATR, displacement candles, FVG and displacement events."""
    n = int(t.shape[0])
    atr = atr_series(h, lo, c, int(p.atr.length))
    atr_prev = np.empty_like(atr)
    if n:
        atr_prev[0] = np.nan
        atr_prev[1:] = atr[:-1]
    d = p.displacement
    disp_dir = displacement_direction(o, h, lo, c, atr_prev, float(d.k_body), float(d.min_body_ratio))
    last_disp_up = last_true(disp_dir, 1)
    last_disp_dn = last_true(disp_dir, -1)
    lap("atr")
    f = p.fvg
    ev_i, ev_f, r, formed_ref, formed_dir = fvg_kernel(
        t, o, h, lo, c, atr, disp_dir, bool(f.require_body_direction), bool(f.require_close_beyond),
        bool(f.require_displacement), float(f.min_ticks * f.tick_size), float(f.k_atr),
        -1 if f.max_age is None else int(f.max_age), bool(f.merge_adjacent),
        -1 if f.max_active is None else int(f.max_active), SLOT_FVG)
    parts.append(_trimmed(SLOT_FVG, ev_i, ev_f, r))
    last_fvg_up = last_true(formed_dir, 1)
    last_fvg_dn = last_true(formed_dir, -1)
    lap("fvg")
    ev_i, ev_f, r = displacement_kernel(t, o, h, lo, c, atr_prev, disp_dir, formed_ref, formed_dir, int(d.max_leg),
                                        float(d.k_leg), SLOT_DISPLACEMENT)
    parts.append(_trimmed(SLOT_DISPLACEMENT, ev_i, ev_f, r))
    lap("displacement")
    return _Zones(atr, last_disp_up, last_disp_dn, last_fvg_up, last_fvg_dn)


def _liquidity_sections(t: I64, o: F64, h: F64, lo: F64, c: F64, tf: Timeframe, p: IndicatorParams, atr: F64,
                        parts: Parts, lap: _Laps) -> tuple[Any, ...]:
    """Previous periods, sessions and liquidity: (members, taken_up, taken_dn, lv_i, ver_i, ver_f)."""
    n = int(t.shape[0])
    starts = np.empty((3, n), np.int64)
    ends = np.empty((3, n), np.int64)
    for k, kind in enumerate(("day", "week", "month")):
        starts[k], ends[k] = period_table(t, kind, p.previous_period.day_anchor)
    ev_i, ev_f, r, pv_i, pv_f = previous_kernel(t, o, h, lo, starts, ends, SLOT_PREVIOUS)
    parts.append(_trimmed(SLOT_PREVIOUS, ev_i, ev_f, r))
    lap("previous_period")
    w_starts, w_ends, w_first, w_tags = session_tables(t, tf.ms, p.sessions.windows)
    ev_i, ev_f, r, ss_i, ss_f = session_kernel(t, h, lo, tf.ms, w_starts, w_ends, w_first, w_tags, SLOT_SESSIONS)
    parts.append(_trimmed(SLOT_SESSIONS, ev_i, ev_f, r))
    lap("sessions")
    q = p.liquidity
    enabled = np.array([name in q.sources for name in TAGS], dtype=np.bool_)
    ev_i, ev_f, r, members, taken_up, taken_dn, lv_i, ver_i, ver_f = liquidity_kernel(
        t, h, lo, c, atr, int(q.left), int(q.right), float(q.k_atr), float(q.k_bps), int(q.sweep_window),
        np.nan if q.k_exc is None else float(q.k_exc), enabled, np.array(SOURCE_RANK, dtype=np.int64), pv_i, pv_f, ss_i,
        ss_f, SLOT_LIQUIDITY)
    parts.append(_trimmed(SLOT_LIQUIDITY, ev_i, ev_f, r))
    lap("liquidity")
    return members, taken_up, taken_dn, lv_i, ver_i, ver_f


def _structure_sections(t: I64, o: F64, h: F64, lo: F64, c: F64, p: IndicatorParams, zones: _Zones, taken_up: Any,
                        taken_dn: Any, parts: Parts, lap: _Laps) -> None:
    """Per stream: swings → structure → order blocks, and premium / discount on its stream."""
    s = p.structure
    ob = p.order_blocks
    for k, name in enumerate(("internal", "swing")):
        if name not in s.streams:
            continue
        sp = s.stream_params(name)
        tag = T[name]
        ev_i, ev_f, r, acc_n, acc_dir, acc_level, acc_anchor, acc_ref = swing_kernel(
            t, h, lo, int(sp.left), int(sp.right), tag, SLOT_SWINGS[k])
        parts.append(_trimmed(SLOT_SWINGS[k], ev_i, ev_f, r))
        lap("swings")
        ev_i, ev_f, r, brk_n, brk = structure_kernel(
            t, o, h, lo, c, acc_n, acc_dir, acc_level, acc_anchor, acc_ref, zones.last_disp_up, zones.last_disp_dn,
            taken_up, taken_dn, s.break_source == "wick", bool(s.require_sweep), tag, SLOT_STRUCTURE[k])
        parts.append(_trimmed(SLOT_STRUCTURE[k], ev_i, ev_f, r))
        lap("structure")
        ev_i, ev_f, r = ob_kernel(
            t, o, h, lo, c, brk_n, brk, zones.last_disp_up, zones.last_disp_dn, zones.last_fvg_up, zones.last_fvg_dn,
            taken_up, taken_dn, ob.zone == "body", ob.invalidation_source == "wick", bool(ob.breaker_requires_mss),
            int(ob.mss_window), -1 if ob.max_active is None else int(ob.max_active), tag, SLOT_OB[k])
        parts.append(_trimmed(SLOT_OB[k], ev_i, ev_f, r))
        lap("order_blocks")
        if name == p.premium_discount.pd_stream:
            pdp = p.premium_discount
            ev_i, ev_f, r = pd_kernel(t, h, lo, c, brk_n, brk, float(pdp.ote_low), float(pdp.ote_high),
                                      float(pdp.sweet_spot), tag, SLOT_PD)
            parts.append(_trimmed(SLOT_PD, ev_i, ev_f, r))
            lap("premium_discount")


def _trimmed(slot: int, ev_i: I32, ev_f: F64, rows: int) -> tuple[int, I32, F64, int]:
    """A kernel's event matrices cut to the rows it wrote: the kernels allocate for the worst case and
    grow on demand, so holding the untrimmed matrices of every section until the merge would keep
    their spare capacity alive (≈ 100 MB on a year of 5m candles)."""
    return slot, ev_i[:rows].copy(), ev_f[:rows].copy(), rows


def _level_table(lv_i: I64, ver_i: I64, ver_f: F64, slot_col: I8, slot_i: list[Any], counts: I64,
                 n: int) -> LevelTable:
    """The liquidity kernel's level / version arrays as a ``LevelTable`` with parents as final rows."""
    level = ver_i[:, 0]
    parent = lv_i[level, 4]
    final = np.full(parent.shape[0], -1, np.int64)
    mask = (np.int64(1) << REF_SHIFT) - 1
    for slot in np.unique(parent[parent >= 0] >> REF_SHIFT).tolist():
        # the merge orders a slot's rows stably by confirm index: its k-th final row is the k-th of that order
        order = np.argsort(slot_i[slot][:counts[slot], CONFIRM], kind="stable")
        rows_of_slot = np.empty(int(counts[slot]), np.int64)
        rows_of_slot[order] = np.flatnonzero(slot_col == slot)
        mine = (parent >= 0) & (parent >> REF_SHIFT == slot)
        final[mine] = rows_of_slot[parent[mine] & mask]
    death = ver_i[:, 2].copy()
    death[death < 0] = n
    return LevelTable(level + 1, ver_i[:, 1].copy(), death, lv_i[level, 0], lv_i[level, 1], lv_i[level, 2],
                      lv_i[level, 3], final, ver_f)
