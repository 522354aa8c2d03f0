"""The resumable ATR + FVG prototype (#20 item 8) == the batch kernel == the streaming engine.

One state serves batch (one call), streaming (one call per candle, any chunking) and snapshot views;
these tests hold it to the two implementations it would replace.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

pytest.importorskip("numba")

from ictbot.adapters.files.candle_files import CandleFrame, read_candle_file
from ictbot.indicators.kernels.codes import SLOT_FVG
from ictbot.indicators.kernels.fvg import atr_series, displacement_direction, fvg_kernel
from ictbot.indicators.params import AtrParams, DisplacementParams, FvgParams, IndicatorParams
from ictbot.indicators.resumable import layout
from ictbot.indicators.resumable.fvg import Columns, EventRows, init_state, live_zones, step_range
from ictbot.indicators.stream import TimeframeEngine
from tests.conftest import DATA, require_shared

PARAMS = (
    IndicatorParams(),
    IndicatorParams(atr=AtrParams(length=5), displacement=DisplacementParams(k_body=0.5, min_body_ratio=0.4),
                    fvg=FvgParams(max_active=3, max_age=20, merge_adjacent=True, require_displacement=True,
                                  k_atr=0.2)),
    IndicatorParams(fvg=FvgParams(require_body_direction=False, require_close_beyond=True, max_active=None,
                                  max_age=7, min_ticks=4, tick_size=0.5)),
)


@pytest.fixture(scope="module")
def frame() -> CandleFrame:
    return read_candle_file(require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv"))


def columns(frame: CandleFrame) -> Columns:
    return Columns(frame.open_time, frame.open, frame.high, frame.low, frame.close)


def batch_kernel_rows(cols: Columns, p: IndicatorParams) -> tuple[np.ndarray, np.ndarray]:
    atr = atr_series(cols.h, cols.lo, cols.c, int(p.atr.length))
    atr_prev = np.concatenate(([np.nan], atr[:-1]))
    d, f = p.displacement, p.fvg
    disp = displacement_direction(cols.o, cols.h, cols.lo, cols.c, atr_prev, float(d.k_body),
                                  float(d.min_body_ratio))
    ev_i, ev_f, rows, _, _ = fvg_kernel(
        cols.t, cols.o, cols.h, cols.lo, cols.c, atr, disp, bool(f.require_body_direction),
        bool(f.require_close_beyond), bool(f.require_displacement), float(f.min_ticks * f.tick_size),
        float(f.k_atr), -1 if f.max_age is None else int(f.max_age), bool(f.merge_adjacent),
        -1 if f.max_active is None else int(f.max_active), SLOT_FVG)
    return ev_i[:rows], ev_f[:rows]


def joined(parts: list[EventRows]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([p.ints for p in parts]), np.concatenate([p.floats for p in parts])


def assert_same(expected: tuple[np.ndarray, np.ndarray], got: tuple[np.ndarray, np.ndarray]) -> None:
    assert got[0].shape == expected[0].shape
    assert np.array_equal(got[0], expected[0])
    assert np.array_equal(got[1], expected[1], equal_nan=True)


@pytest.mark.parametrize("p", PARAMS, ids=["defaults", "displacement-capped", "close-beyond-aged"])
def test_one_call_equals_the_batch_kernel(frame: CandleFrame, p: IndicatorParams) -> None:
    cols = columns(frame)
    expected = batch_kernel_rows(cols, p)
    assert expected[0].shape[0] > 500  # a month of 5m candles logs many FVG events
    rows = step_range(init_state(p), cols, 0, len(frame))
    assert rows.first_row == 0
    assert_same(expected, (rows.ints, rows.floats))


@pytest.mark.parametrize("p", PARAMS, ids=["defaults", "displacement-capped", "close-beyond-aged"])
def test_one_call_per_candle_and_random_chunks_equal_one_call(frame: CandleFrame, p: IndicatorParams) -> None:
    cols = columns(frame)
    expected = batch_kernel_rows(cols, p)
    state = init_state(p)
    assert_same(expected, joined([step_range(state, cols, i, i + 1) for i in range(len(frame))]))
    rng = random.Random(7)
    cuts = sorted({0, len(frame), *(rng.randrange(len(frame)) for _ in range(40))})
    state = init_state(p)
    assert_same(expected, joined([step_range(state, cols, a, b) for a, b in itertools.pairwise(cuts)]))


def test_streaming_state_stays_bounded_over_a_month(frame: CandleFrame) -> None:
    """Dead zones are compacted away: the zone tables do not grow with the number of candles."""
    p = IndicatorParams()
    cols = columns(frame)
    state = init_state(p)
    for i in range(len(frame)):
        step_range(state, cols, i, i + 1)
    formed = int(np.count_nonzero(batch_kernel_rows(cols, p)[0][:, 0] == 5))  # K_FVG rows
    assert formed > 1000
    assert int(state.s[layout.NZ]) <= 2 * (state.s[layout.ACT_UP] + state.s[layout.ACT_DN]) + 256
    assert state.capacity <= 1024


@pytest.mark.parametrize("p", PARAMS[::2], ids=["defaults", "close-beyond-aged"])
def test_live_zones_equal_the_streaming_engines_book(frame: CandleFrame, p: IndicatorParams) -> None:
    """The snapshot view: after any candle, the same live gaps in the same state as ``ict/fvg.py``'s book."""
    cols = columns(frame)
    engine = TimeframeEngine("5m", p)
    state = init_state(p)
    checked = 0
    for i in range(len(frame)):
        engine.step(int(cols.t[i]), float(cols.o[i]), float(cols.h[i]), float(cols.lo[i]), float(cols.c[i]))
        step_range(state, cols, i, i + 1)
        if i % 97:
            continue
        book = engine.fvg.book
        streaming = sorted((z.seq, z.role, z.direction, z.top, z.bottom, z.anchor_index, z.confirm_index, z.touched,
                            z.mid_hit, z.filled) for d in (1, -1) for z in book.alive(d))
        resumable = [(z.role, z.direction, z.top, z.bottom, z.anchor_index, z.confirm_index, z.touched, z.mid_hit,
                      z.filled) for z in live_zones(state)]
        assert [row[1:] for row in streaming] == resumable, f"candle {i}"
        checked += len(resumable)
    assert checked > 100


def test_step_range_refuses_a_gap_or_a_replay(frame: CandleFrame) -> None:
    cols = columns(frame)
    state = init_state(IndicatorParams())
    step_range(state, cols, 0, 10)
    with pytest.raises(ValueError, match="expects candle 10"):
        step_range(state, cols, 11, 12)
    with pytest.raises(ValueError, match="expects candle 10"):
        step_range(state, cols, 5, 12)
    with pytest.raises(ValueError, match="outside"):
        step_range(state, cols, 10, len(frame) + 1)
