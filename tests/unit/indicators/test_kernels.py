"""Compiled batch kernels == the streaming fold (``suite.compute``): hand-worked sequences, random
candles under several parameter sets, real candles. Skipped without numba (the ``fast`` extra)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.events import Event
from ictbot.indicators.ict.sessions import WINDOWS, window_bounds
from ictbot.indicators.kernels import available, compute_columns, compute_events
from ictbot.indicators.kernels.calendar import window_table
from ictbot.indicators.kernels.codes import CONFIRM, KIND, KINDS
from ictbot.indicators.params import (
    AtrParams,
    DisplacementParams,
    FvgParams,
    IndicatorParams,
    LiquidityParams,
    OrderBlockParams,
    PremiumDiscountParams,
    PreviousPeriodParams,
    SessionParams,
    StructureParams,
)
from ictbot.indicators.suite import ALL_KINDS, SECTION_KINDS, compute
from tests.conftest import DATA, require_shared
from tests.unit.indicators import helpers
from tests.unit.indicators.helpers import T0, hl
from tests.unit.indicators.test_properties import SMALL, WICK, candles

STRICT_BODY = IndicatorParams(
    atr=AtrParams(length=2),
    structure=StructureParams(internal_left=1, internal_right=1, swing_left=1, swing_right=2, require_sweep=True),
    fvg=FvgParams(max_active=None, max_age=3, require_close_beyond=True, require_displacement=True, min_ticks=2,
                  tick_size=0.5),
    order_blocks=OrderBlockParams(zone="body", breaker_requires_mss=True, mss_window=0, max_active=None),
    liquidity=LiquidityParams(left=1, right=2, k_atr=0.0, sweep_window=3, sources=("swing", "day", "london_kz",
                                                                                   "asia_kz", "tokyo")),
    premium_discount=PremiumDiscountParams(pd_stream="internal", ote_low=0.5, ote_high=0.9, sweet_spot=0.7),
    previous_period=PreviousPeriodParams(day_anchor="ny_17"),
    sessions=SessionParams(windows=("asia_kz", "london_kz", "tokyo", "new_york")),
    displacement=DisplacementParams(k_body=0.0, min_body_ratio=0.3, max_leg=0),
)
ONE_STREAM = IndicatorParams(
    structure=StructureParams(internal_left=2, internal_right=1, streams=("internal",)),
    fvg=FvgParams(require_body_direction=False, merge_adjacent=True, max_active=1),
    order_blocks=OrderBlockParams(breaker_requires_mss=True, mss_window=5, max_active=1),
    liquidity=LiquidityParams(left=1, right=1, k_atr=2.0, k_bps=5.0, k_exc=0.0, sources=("pool", "week")),
    premium_discount=PremiumDiscountParams(pd_stream="internal"),
    previous_period=PreviousPeriodParams(day_anchor="ny_midnight"),
    displacement=DisplacementParams(k_body=0.5, min_body_ratio=0.4, max_leg=5, k_leg=0.0),
)
# the first test of a fresh checkout compiles every kernel (1-2 min CPU on a shared machine); numba caches
# the machine code on disk afterwards
pytestmark = pytest.mark.timeout(900)

PARAM_SETS = [IndicatorParams(), SMALL, WICK, STRICT_BODY, ONE_STREAM]
GOLDEN_MODULES = ("test_atr_swings", "test_fvg", "test_liquidity", "test_params_events",
                  "test_periods_sessions_displacement", "test_structure_ob_pd")


def assert_same(kernel: Sequence[Event], fold: Sequence[Event]) -> None:
    """Equal event lists; on failure name the first differing event (readable diff)."""
    for k, (a, b) in enumerate(zip(kernel, fold, strict=False)):
        assert a.key() == b.key(), f"event {k}: kernel {a!r} {a.id}\n fold {b!r} {b.id}"
        assert list(a.fields) == list(b.fields)  # same field order (export column order)
    assert len(kernel) == len(fold)


def both(t: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, tf: str,
         params: IndicatorParams | None) -> list[Event]:
    fold = compute(t, o, h, lo, c, tf, params).events
    assert_same(compute_events(t, o, h, lo, c, tf, params), fold)
    return fold


def test_numba_is_reported_available() -> None:
    assert available()


# ---- the hand-worked sequences of the existing unit tests -------------------------------------------


def _golden_cases() -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    for name in GOLDEN_MODULES:
        module = importlib.import_module(f"tests.unit.indicators.{name}")
        for attr, fn in vars(module).items():
            if attr.startswith("test_") and callable(fn) and not inspect.signature(fn).parameters \
                    and not hasattr(fn, "hypothesis") and "run(" in inspect.getsource(fn):
                cases.append((name, attr))
    return cases


@pytest.mark.parametrize(("module_name", "test_name"), _golden_cases())
def test_golden_sequences_match_the_fold(module_name: str, test_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-run each golden test with its ``run`` helper also checking kernel == fold on its candles."""
    module = importlib.import_module(f"tests.unit.indicators.{module_name}")
    original: Callable[..., list[Event]] = helpers.run
    checked: list[int] = []

    def run_and_check(rows: Sequence[helpers.Row], params: IndicatorParams | None = None, tf: str = "5m",
                      start: int = T0, skip: Sequence[int] = ()) -> list[Event]:
        fold = original(rows, params, tf, start, skip)
        t, o, h, lo, c = helpers.arrays(rows, tf, start, skip)
        assert_same(compute_events(t, o, h, lo, c, tf, params), fold)
        checked.append(len(fold))
        return fold

    if hasattr(module, "run"):
        monkeypatch.setattr(module, "run", run_and_check)
    fn: Callable[[], Any] = getattr(module, test_name)
    fn()
    assert checked, "the golden test built no candles through helpers.run"


def test_golden_cases_cover_every_section() -> None:
    """The golden parity above is not vacuous: together the sequences produce every section's kinds."""
    seen: set[str] = set()
    for module_name, test_name in _golden_cases():
        module = importlib.import_module(f"tests.unit.indicators.{module_name}")
        original = helpers.run

        def spy(*args: Any, original: Callable[..., list[Event]] = original, **kwargs: Any) -> list[Event]:
            events = original(*args, **kwargs)
            seen.update(e.kind for e in events)
            return events

        previous = getattr(module, "run", None)
        if previous is None:
            continue
        module.run = spy
        try:
            getattr(module, test_name)()
        finally:
            module.run = previous
    for section, kinds in SECTION_KINDS.items():
        assert seen & kinds, section


# ---- random candles ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=candles(max_size=120), params=st.sampled_from(PARAM_SETS))
def test_random_candles_match_the_fold(data: tuple[np.ndarray, ...], params: IndicatorParams) -> None:
    t, o, h, lo, c = data
    both(t, o, h, lo, c, "1h", params)


@settings(max_examples=15, deadline=None)
@given(data=candles(max_size=400), params=st.sampled_from(PARAM_SETS))
def test_longer_random_walks_on_5m_clock_match_the_fold(data: tuple[np.ndarray, ...], params: IndicatorParams) -> None:
    """Same walks on a 5-minute clock: sessions and days open and close inside the series."""
    _, o, h, lo, c = data
    t = T0 + 300_000 * np.cumsum(np.array([1 + (k % 17 == 0) * 5 for k in range(len(o))], dtype=np.int64))
    both(t, o, h, lo, c, "5m", params)


@settings(max_examples=20, deadline=None)
@given(data=candles(max_size=150), params=st.sampled_from(PARAM_SETS), tf=st.sampled_from(["15m", "4h", "1d"]))
def test_other_timeframes_match_the_fold(data: tuple[np.ndarray, ...], params: IndicatorParams, tf: str) -> None:
    """Candles spanning several session windows / days at once (4h, 1d) and quarter-hour clocks."""
    _, o, h, lo, c = data
    step = Timeframe.parse(tf).ms
    t = T0 + step * np.cumsum(np.array([1 + (k % 11 == 0) for k in range(len(o))], dtype=np.int64))
    both(t, o, h, lo, c, tf, params)


def _walk(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    rows = []
    price = 100.0
    for move in rng.integers(-3, 4, n).tolist():
        o = price
        c = max(1.0, price + move)
        up, down = rng.integers(0, 5, 2).tolist()
        scale = 5 if rng.random() < 0.2 else 1
        rows.append((o, max(o, c) + up * scale, max(0.5, min(o, c) - down * scale), c))
        price = c
    data = np.array(rows)
    gaps = 1 + (rng.random(n) < 0.05) * 5
    t = T0 + 300_000 * np.cumsum(gaps).astype(np.int64)
    return t, data[:, 0].copy(), data[:, 1].copy(), data[:, 2].copy(), data[:, 3].copy()


def test_seeded_walks_cover_every_kind_and_match_the_fold() -> None:
    """Fixed walks under all parameter sets: parity, and every event kind occurs at least once
    (weeks and months only on real data)."""
    rng = np.random.default_rng(7)
    seen: set[str] = set()
    for params in PARAM_SETS:
        for _ in range(6):
            seen.update(e.kind for e in both(*_walk(rng, 300), "5m", params))
    assert ALL_KINDS - seen == {"previous_week", "previous_month"}


def test_columns_are_in_log_order_with_the_fold_counts() -> None:
    rows = hl([5, 6, 9, 6, 5, 7, 10, 7, 4, 3, 2, 8, 11, 12, 6, 5, 4, 13],
              [3, 4, 6, 3, 2, 4, 7, 3, 1, 0.5, 0.4, 5, 8, 9, 2, 1, 0.5, 9])
    t, o, h, lo, c = helpers.arrays(rows)
    params = SMALL
    cols = compute_columns(t, o, h, lo, c, "5m", params)
    fold = compute(t, o, h, lo, c, "5m", params).events
    assert len(cols) == len(fold) > 10
    assert [KINDS[k] for k in cols.ints[:, KIND].tolist()] == [e.kind for e in fold]
    assert cols.ints[:, CONFIRM].tolist() == [e.confirm_index for e in fold]


def test_empty_and_tiny_series() -> None:
    for n in (0, 1, 2, 3):
        t, o, h, lo, c = helpers.arrays(hl([5.0, 6.0, 7.0][:n] or [], [4.0, 5.0, 6.0][:n] or []))
        assert compute_events(t, o, h, lo, c, "5m") == compute(t, o, h, lo, c, "5m").events


def test_out_of_order_candles_are_rejected() -> None:
    t, o, h, lo, c = helpers.arrays(hl([5.0, 6.0, 7.0], [4.0, 5.0, 6.0]))
    t[2] = t[1]
    with pytest.raises(ValueError, match="increasing"):
        compute_columns(t, o, h, lo, c, "5m")


def test_window_tables_equal_the_tz_database_bound_by_bound() -> None:
    """The DST-bisecting session table == ``window_bounds`` for every window and date of 2023-2026."""
    first = date(2023, 1, 1)
    for window in WINDOWS:
        starts, ends = window_table(window, first, 1200)
        expected = [window_bounds(window, first + timedelta(days=k)) for k in range(1200)]
        assert list(zip(starts, ends, strict=True)) == expected, window.id
    assert window_table(WINDOWS[0], first, 0) == ([], [])


# ---- real candles ------------------------------------------------------------------------------------


def test_real_month_with_us_dst_switch_matches_the_fold() -> None:
    from ictbot.adapters.files import read_candle_file

    frame = read_candle_file(require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv"))
    args = (frame.open_time, frame.open, frame.high, frame.low, frame.close)
    fold = both(*args, "5m", None)
    assert len(fold) > 30_000
    assert {e.kind for e in fold} >= {"session_closed", "previous_week", "liquidity_pool_extended", "breaker", "run"}
    # a strict, multi-option parameter set on the same candles
    both(*args, "5m", STRICT_BODY)
