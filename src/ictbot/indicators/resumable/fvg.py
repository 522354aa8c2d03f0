"""ATR + displacement + FVG as one resumable section: ``init_state`` / ``step_range`` / ``live_zones``.

One implementation serves the three uses that today need three: batch (one ``step_range`` over all
candles), streaming (one call per closed candle) and the backtest's snapshot views (``live_zones`` of the
state after candle i). Prototype for the decision in docs/design/ict-single-implementation.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ictbot.indicators.kernels.codes import NF, NI, SLOT_FVG
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.resumable import layout as L
from ictbot.indicators.resumable.compact import compact_kernel
from ictbot.indicators.resumable.kernel import step_range_kernel

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
M = TypeVar("M", npt.NDArray[np.float64], npt.NDArray[np.int64])


@dataclass(frozen=True, slots=True)
class Columns:
    """Candle columns addressed by absolute candle index (a streaming caller appends to them)."""

    t: I64
    o: F64
    h: F64
    lo: F64
    c: F64


@dataclass(slots=True)
class FvgState:
    """Everything the section remembers between calls (mutated in place by the kernel, by design)."""

    pi: I64
    s: I64
    sf: F64
    zi: I64
    zf: F64
    heap_k: F64
    heap_i: I64
    order: I64
    ev_i: I32  # event buffers reused by every call (a streaming call logs a handful of rows)
    ev_f: F64
    calls: int = 0

    @property
    def next_index(self) -> int:
        return int(self.s[L.NEXT_I])

    @property
    def capacity(self) -> int:
        return int(self.zi.shape[1])


@dataclass(frozen=True, slots=True)
class EventRows:
    """The events logged by one ``step_range`` call, in the batch kernels' matrix layout (codes.py)."""

    ints: I32
    floats: F64
    first_row: int  # global row number of ``ints[0]`` (event references are ``slot << 27 | global row``)


@dataclass(frozen=True, slots=True)
class LiveZone:
    role: str  # "fvg" | "ifvg"
    direction: int
    top: float
    bottom: float
    mid: float
    anchor_index: int
    confirm_index: int
    touched: bool
    mid_hit: bool
    filled: bool
    event_ref: int


def init_state(params: IndicatorParams, capacity: int = 64) -> FvgState:
    f, d = params.fvg, params.displacement
    pi = np.zeros(L.N_PI, np.int64)
    pi[L.REQUIRE_BODY] = int(f.require_body_direction)
    pi[L.REQUIRE_CLOSE] = int(f.require_close_beyond)
    pi[L.REQUIRE_DISP] = int(f.require_displacement)
    pi[L.MAX_AGE] = -1 if f.max_age is None else int(f.max_age)
    pi[L.MERGE_ADJACENT] = int(f.merge_adjacent)
    pi[L.MAX_ACTIVE] = -1 if f.max_active is None else int(f.max_active)
    pi[L.SLOT] = SLOT_FVG
    pi[L.ATR_N] = int(params.atr.length)
    s = np.zeros(L.N_S, np.int64)
    s[L.PREV_GAP] = -1
    sf = np.zeros(L.N_SF, np.float64)
    sf[L.ATR_VALUE] = np.nan
    sf[L.ATR_PREV_CLOSE] = np.nan
    sf[L.MIN_SIZE] = float(f.min_ticks * f.tick_size)
    sf[L.K_ATR] = float(f.k_atr)
    sf[L.K_BODY] = float(d.k_body)
    sf[L.MIN_BODY_RATIO] = float(d.min_body_ratio)
    return FvgState(pi, s, sf, np.zeros((L.N_ZI, capacity), np.int64), np.zeros((L.N_ZF, capacity), np.float64),
                    np.zeros((2, capacity), np.float64), np.zeros((4, capacity), np.int64),
                    np.zeros((3, capacity), np.int64), np.empty((64, NI), np.int32), np.empty((64, NF), np.float64))


def step_range(state: FvgState, cols: Columns, i0: int, i1: int) -> EventRows:
    """Advance the section over candles ``i0 .. i1-1``; ``i0`` must be the next candle the state expects."""
    if i0 != state.next_index:
        raise ValueError(f"step_range: i0={i0} but the state expects candle {state.next_index} next")
    if not i0 <= i1 <= cols.h.shape[0]:
        raise ValueError(f"step_range: i1={i1} outside the {cols.h.shape[0]} candles given")
    state.calls += 1
    if state.calls % 64 == 0 or i1 - i0 > 64:
        _compact_if_sparse(state)
    _ensure_capacity(state, i1 - i0)
    s = state.s
    first_row = int(s[L.ROWS])
    if i1 - i0 > 16:  # batch-sized call: room for the expected rows up front (the kernel still grows them)
        state.ev_i = np.empty((3 * (i1 - i0) + 64, NI), np.int32)
        state.ev_f = np.empty((state.ev_i.shape[0], NF), np.float64)
    state.ev_i, state.ev_f = step_range_kernel(cols.t, cols.o, cols.h, cols.lo, cols.c, i0, i1, state.pi, s,
                                               state.sf, state.zi, state.zf, state.heap_k, state.heap_i,
                                               state.order, state.ev_i, state.ev_f, first_row)
    rows = int(s[L.ROWS]) - first_row
    return EventRows(state.ev_i[:rows].copy(), state.ev_f[:rows].copy(), first_row)


def live_zones(state: FvgState) -> list[LiveZone]:
    """The zones alive after the last candle stepped, in creation order (the snapshot view)."""
    zi, zf = state.zi, state.zf
    count = int(state.s[L.NZ])
    alive = np.flatnonzero(zi[L.Z_ALIVE, :count])
    return [LiveZone("fvg" if zi[L.Z_ROLE, z] == 0 else "ifvg", int(zi[L.Z_DIR, z]), float(zf[L.Z_TOP, z]),
                     float(zf[L.Z_BOT, z]), float(zf[L.Z_MID, z]), int(zi[L.Z_ANCHOR, z]), int(zi[L.Z_CONFIRM, z]),
                     bool(zi[L.Z_TOUCHED, z]), bool(zi[L.Z_MIDHIT, z]), bool(zi[L.Z_FILLED, z]),
                     int(zi[L.Z_EVENT, z])) for z in alive.tolist()]


def _compact_if_sparse(state: FvgState) -> None:
    """Drop dead zones once they outnumber live ones (bounded memory for months of streaming)."""
    live = int(state.s[L.ACT_UP] + state.s[L.ACT_DN])
    if int(state.s[L.NZ]) > 2 * live + 256:
        compact_kernel(state.s, state.zi, state.zf, state.heap_k, state.heap_i, state.order)


def _ensure_capacity(state: FvgState, candles: int) -> None:
    # a candle adds at most one gap plus one inverse gap per live gap; heaps and queues hold ≤ one entry
    # per zone created since the last compaction
    s = state.s
    need = int(s[L.NZ] + s[L.ACT_UP] + s[L.ACT_DN]) + 2 * candles + 16
    if need <= state.zi.shape[1]:
        return
    cap = max(need, 2 * state.capacity)
    state.zi = _widen(state.zi, cap)
    state.zf = _widen(state.zf, cap)
    state.heap_k = _widen(state.heap_k, cap)
    state.heap_i = _widen(state.heap_i, cap)
    state.order = _widen(state.order, cap)


def _widen(matrix: M, cap: int) -> M:
    out = np.zeros((matrix.shape[0], cap), matrix.dtype)
    out[:, :matrix.shape[1]] = matrix
    return out
