"""The compiled batch suite: section kernels chained in the dependency order of ``TimeframeEngine.step``.

Every section kernel folds its state machine over the whole series and hands arrays to the next
(ATR → displacement candles → FVG → displacement events → previous periods → sessions → liquidity →
per stream: swings → structure → order blocks, premium / discount); the per-section event matrices
are then merged into the log order of ict-spec §0. All of it is one compiled call
(``pipeline.suite_kernel``); this module builds its arguments and the level table.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.kernels.calendar import period_table, session_tables
from ictbot.indicators.kernels.codes import (
    CONFIRM,
    N_SLOTS,
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
)
from ictbot.indicators.kernels.pipeline import LiquidityArgs, StructureArgs, ZoneArgs, suite_kernel
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


def compute_columns(t: I64, o: F64, h: F64, lo: F64, c: F64, timeframe: Timeframe | str,
                    params: IndicatorParams | None = None) -> KernelColumns:
    """All events of ``suite.compute`` as columns (CPU seconds of the kernels and of the level table in
    ``cpu``). The sections and the merge run in one compiled call (``pipeline.suite_kernel``: one cache
    entry to load per process); the calendar tables it needs are built here (time zones)."""
    p = params or IndicatorParams()
    tf = Timeframe.parse(timeframe) if isinstance(timeframe, str) else timeframe
    t = np.ascontiguousarray(t, dtype=np.int64)
    o, h, lo, c = (np.ascontiguousarray(x, dtype=np.float64) for x in (o, h, lo, c))
    n = int(t.shape[0])
    if n > 1 and not bool(np.all(t[1:] > t[:-1])):
        raise ValueError("candle open times must be strictly increasing")
    clock = time.process_time()
    starts = np.empty((3, n), np.int64)
    ends = np.empty((3, n), np.int64)
    for k, kind in enumerate(("day", "week", "month")):
        starts[k], ends[k] = period_table(t, kind, p.previous_period.day_anchor)
    windows = session_tables(t, tf.ms, p.sessions.windows)
    enabled = np.array([name in p.liquidity.sources for name in TAGS], dtype=np.bool_)
    ints, floats, slot_col, ids_n, members, lv_i, ver_i, ver_f, slot_i, counts = suite_kernel(
        t, o, h, lo, c, starts, ends, windows, enabled, np.array(SOURCE_RANK, dtype=np.int64), zone_args(p),
        liquidity_args(p, tf), structure_args(p))
    cpu = {"kernels": time.process_time() - clock}
    clock = time.process_time()
    levels = _level_table(lv_i, ver_i, ver_f, slot_col, slot_i, counts, n)
    cpu["liquidity"] = time.process_time() - clock
    return KernelColumns(ints, floats, slot_col, ids_n, members, t, tf.value, tf.ms,
                         slot_hashes(p), ("internal", "swing", p.premium_discount.pd_stream), cpu, levels)


def zone_args(p: IndicatorParams) -> ZoneArgs:
    """The ATR / displacement / FVG parameters as the kernels take them (plain scalars, None = −1)."""
    d = p.displacement
    f = p.fvg
    return ZoneArgs(int(p.atr.length), float(d.k_body), float(d.min_body_ratio), bool(f.require_body_direction),
                    bool(f.require_close_beyond), bool(f.require_displacement), float(f.min_ticks * f.tick_size),
                    float(f.k_atr), -1 if f.max_age is None else int(f.max_age), bool(f.merge_adjacent),
                    -1 if f.max_active is None else int(f.max_active), int(d.max_leg), float(d.k_leg))


def liquidity_args(p: IndicatorParams, tf: Timeframe) -> LiquidityArgs:
    """The liquidity parameters as the kernels take them (``k_exc`` None = NaN)."""
    q = p.liquidity
    return LiquidityArgs(int(tf.ms), int(q.left), int(q.right), float(q.k_atr), float(q.k_bps), int(q.sweep_window),
                         np.nan if q.k_exc is None else float(q.k_exc))


def structure_args(p: IndicatorParams) -> StructureArgs:
    """The per-stream, structure, order block and premium / discount parameters as the kernels take them."""
    s = p.structure
    ob = p.order_blocks
    pdp = p.premium_discount
    internal = s.stream_params("internal")
    swing = s.stream_params("swing")
    return StructureArgs(
        "internal" in s.streams, "swing" in s.streams, int(internal.left), int(internal.right), int(swing.left),
        int(swing.right), s.break_source == "wick", bool(s.require_sweep), ob.zone == "body",
        ob.invalidation_source == "wick", bool(ob.breaker_requires_mss), int(ob.mss_window),
        -1 if ob.max_active is None else int(ob.max_active), 0 if pdp.pd_stream == "internal" else 1,
        float(pdp.ote_low), float(pdp.ote_high), float(pdp.sweet_spot))


def _level_table(lv_i: I64, ver_i: I64, ver_f: F64, slot_col: I8, slot_i: tuple[Any, ...], counts: I64,
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
