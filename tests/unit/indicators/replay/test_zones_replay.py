"""Replayed zone tuples (fvgs, ifvgs, order blocks, breakers) == the streaming engine's views.

Oracle: ``MultiTimeframeEngine`` fed as a backtest feeds it (``backtest.ict.IndicatorSnapshots``), views of
every timeframe read on every candle of a real month; compared in order (canonical creation order),
including the higher timeframes' base-candle fields (ict-spec §10).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")  # the replay runs the compiled kernels

from ictbot.adapters.files import read_candle_file
from ictbot.backtest.data import MarketData, aggregate_frame
from ictbot.backtest.ict import IndicatorSnapshots
from ictbot.domain.ict import Zone
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.kernels import compute_columns
from ictbot.indicators.kernels.codes import KINDS
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.params import FvgParams, IndicatorParams, OrderBlockParams
from ictbot.indicators.replay.rows import EventRows
from ictbot.indicators.replay.zones import BaseCandles, ZoneReplay
from ictbot.indicators.replay.zones_base import NEVER, MinTree
from tests.conftest import DATA, require_shared
from tests.unit.indicators import helpers

HIGHER = (Timeframe.M15, Timeframe.H1, Timeframe.H4)
VIEW_FIELDS = {"fvg": "fvgs", "ifvg": "ifvgs", "ob": "order_blocks", "breaker": "breakers"}
Tuples = tuple[tuple[Zone, ...], ...]  # one per role, VIEW_FIELDS order


class _Series:
    """One timeframe's kernel rows and, for a higher timeframe, its delivery and base candles."""

    def __init__(self, data: MarketData, tf: Timeframe, params: IndicatorParams | None = None) -> None:
        frame = data.frame
        series = frame if tf is data.timeframe else aggregate_frame(frame, data.timeframe, tf)
        self.rows = EventRows(compute_columns(series.open_time, series.open, series.high, series.low,
                                              series.close, tf, params))
        base_close = (frame.open_time + data.timeframe.ms).astype(np.int64)
        if tf is data.timeframe:
            self.delivery = None
            self.base = None
        else:
            self.delivery = np.searchsorted(base_close, series.open_time + tf.ms, side="left").astype(np.int64)
            self.base = BaseCandles(base_close, frame.high, frame.low, frame.close, self.delivery)

    def replay(self) -> ZoneReplay:
        return ZoneReplay(self.rows, self.base)

    def index_at(self, j: int) -> int:
        return j if self.delivery is None else int(np.searchsorted(self.delivery, j, side="right")) - 1


@pytest.fixture(scope="module")
def month() -> MarketData:
    frame = read_candle_file(require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2023-10.csv"))
    return MarketData("BTCUSDT", Timeframe.M5, frame)


@pytest.fixture(scope="module")
def series(month: MarketData) -> dict[str, _Series]:
    return {tf.value: _Series(month, tf) for tf in (Timeframe.M5, *HIGHER)}


def _streaming(data: MarketData, params: IndicatorParams | None = None) -> dict[str, list[Tuples | None]]:
    """Per timeframe, the streaming view's zone tuples on every base candle (None: no candle yet)."""
    source = IndicatorSnapshots(MultiTimeframeEngine(Timeframe.M5, HIGHER, params), data, HIGHER)
    names = [tf.value for tf in (Timeframe.M5, *HIGHER)]
    out: dict[str, list[Tuples | None]] = {name: [] for name in names}
    for j in range(len(data.frame)):
        views = source.at(j, None).views  # type: ignore[arg-type]  # the candle is not read
        for name in names:
            view = views.get(name)
            out[name].append(None if view is None else tuple(getattr(view, f) for f in VIEW_FIELDS.values()))
    return out


@pytest.fixture(scope="module")
def streaming(month: MarketData) -> dict[str, list[Tuples | None]]:
    return _streaming(month)


def _compare(name: str, replay: ZoneReplay, feed: _Series, expected: list[Tuples | None], candles: list[int]) -> int:
    compared = 0
    for j in candles:
        index = feed.index_at(j)
        want = expected[j]
        if want is None:
            assert index < 0, (name, j)
            continue
        got = replay.at(index, j)
        for role, zones in zip(VIEW_FIELDS, want, strict=True):
            if got[role] != zones:  # in order: the canonical creation order of ``frames``
                missing = [z.id for z in zones if z not in got[role]][:3]
                extra = [z.id for z in got[role] if z not in zones][:3]
                problem = f"missing {missing} extra {extra}" if missing or extra else "same zones, other order or state"
                raise AssertionError(f"{name} candle {j} {role}: {problem}")
            compared += len(zones)
    return compared


def test_every_candle_of_every_timeframe_equals_the_streaming_views(
        month: MarketData, series: dict[str, _Series], streaming: dict[str, list[Tuples | None]]) -> None:
    candles = list(range(len(month.frame)))
    for name, feed in series.items():
        assert _compare(name, feed.replay(), feed, streaming[name], candles) > 0


def test_sparse_calls_equal_the_streaming_views(
        month: MarketData, series: dict[str, _Series], streaming: dict[str, list[Tuples | None]]) -> None:
    """Calls far apart (a backtest reads few candles): windows of many changes handled at once."""
    rng = np.random.default_rng(7)
    candles = np.cumsum(rng.integers(1, 120, size=400))
    picked = [int(j) for j in candles if j < len(month.frame)]
    for name, feed in series.items():
        replay = feed.replay()
        _compare(name, replay, feed, streaming[name], picked)
        assert replay.at(feed.index_at(picked[-1]), picked[-1]) is replay.at(feed.index_at(picked[-1]), picked[-1])


def test_expiry_eviction_and_strict_breakers_equal_the_streaming_views(month: MarketData) -> None:
    """Small capacities and an age limit: fvg_expired / *_evicted kill zones; strict (MSS) breakers."""
    params = IndicatorParams(fvg=FvgParams(max_age=40, max_active=4),
                             order_blocks=OrderBlockParams(max_active=3, breaker_requires_mss=True))
    data = MarketData(month.symbol, month.timeframe, month.frame.slice(0, 3000))
    expected = _streaming(data, params)
    for tf in (Timeframe.M5, *HIGHER):
        feed = _Series(data, tf, params)
        kinds = {KINDS[k] for k in feed.rows.kind.tolist()}
        if tf is Timeframe.M5:
            assert {"fvg_expired", "fvg_evicted", "ifvg_evicted", "ob_evicted", "breaker"} <= kinds
        assert _compare(tf.value, feed.replay(), feed, expected[tf.value], list(range(len(data.frame)))) > 0


def test_the_month_exercises_every_state(streaming: dict[str, list[Tuples | None]]) -> None:
    """The comparison above is not vacuous: both directions, every flag and the §10 base fields occur."""
    seen: set[tuple[str, str, object]] = set()
    for name, per_candle in streaming.items():
        for tuples in per_candle[::25]:
            for zones in tuples or ():
                for z in zones:
                    seen.add((name, z.kind, z.direction))
                    seen.update((name, key, True) for key in ("mid_hit", "filled") if z.extra[key])
                    seen.update((name, key, True) for key in ("base_touched_time", "base_closed_through_time")
                                if z.extra[key] is not None)
                    if z.touched:
                        seen.add((name, "touched", True))
    for name in ("5m", "15m", "1h", "4h"):
        for kind in ("fvg", "ifvg", "order_block", "breaker"):
            directions = {direction for tf, seen_kind, direction in seen if (tf, seen_kind) == (name, kind)}
            assert directions if name == "4h" else directions == {1, -1}, (name, kind)  # 4h: 186 candles
        assert {(name, "touched", True), (name, "mid_hit", True), (name, "filled", True)} <= seen
    for name in ("15m", "1h", "4h"):
        assert {(name, "base_touched_time", True), (name, "base_closed_through_time", True)} <= seen


def test_hand_worked_gap_touch_mid_fill_and_inversion() -> None:
    rows = [(100.0, 101.0, 99.0, 100.5), (100.5, 105.0, 100.4, 104.5), (104.5, 106.0, 102.0, 105.5),
            (105.5, 106.0, 101.8, 104.0),  # touches the gap (102 .. 101)
            (104.0, 104.5, 101.2, 103.0),  # reaches its CE 101.5
            (103.0, 103.5, 100.5, 100.8)]  # fills it and closes below: inverted
    t, o, h, lo, c = helpers.arrays(rows)
    replay = ZoneReplay(EventRows(compute_columns(t, o, h, lo, c, Timeframe.M5)))
    engine = MultiTimeframeEngine(Timeframe.M5)
    states = []
    for j in range(len(rows)):
        snapshot = engine.on_values("X", Timeframe.M5, int(t[j]), o[j], h[j], lo[j], c[j])
        assert snapshot is not None
        got = replay.at(j, j)
        view = snapshot.views["5m"]
        assert tuple(got[role] for role in VIEW_FIELDS) == tuple(getattr(view, f) for f in VIEW_FIELDS.values())
        states.append(got)
    assert states[1]["fvg"] == ()
    gap = states[2]["fvg"][0]
    assert (gap.direction, gap.top, gap.bottom, gap.touched, gap.extra["ce"]) == (1, 102.0, 101.0, False, 101.5)
    assert states[3]["fvg"][0].touched and not states[3]["fvg"][0].extra["mid_hit"]
    assert states[4]["fvg"][0].extra["mid_hit"] and not states[4]["fvg"][0].extra["filled"]
    assert states[5]["fvg"] == ()
    inverse = states[5]["ifvg"][0]
    assert (inverse.direction, inverse.extra["parent_id"], inverse.touched) == (-1, gap.id, False)
    assert inverse.extra["base_touched_time"] is None
    with pytest.raises(ValueError):
        replay.at(4, 4)


def test_first_below_finds_the_first_crossing_from_each_start() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 64, 100, 1000):
        values = rng.normal(size=n).round(1)
        tree = MinTree(values)
        start = rng.integers(0, n + 2, size=300)
        limit = rng.normal(size=300).round(1)
        for strict in (False, True):
            got = tree.first_below(start, limit, strict)
            for s, x, g in zip(start.tolist(), limit.tolist(), got.tolist(), strict=True):
                hits = [j for j in range(s, n) if (values[j] < x if strict else values[j] <= x)]
                assert g == (hits[0] if hits else NEVER)
