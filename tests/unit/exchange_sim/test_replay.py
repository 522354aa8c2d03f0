"""Replay: intra-candle paths, aggregation (REST = WS), synthetic determinism, file loading."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.market.path import candle_path
from ictbot.exchange_sim.market.replay import DECIMAL_CACHE_SIZE, CandleClosed, PricePoint, Replay
from ictbot.exchange_sim.market.series import load_data_args, symbol_from_filename
from ictbot.exchange_sim.market.synthetic import generate
from tests.conftest import DATA

ORIGIN = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000


def test_path_visits_the_near_extreme_first() -> None:
    bull = candle_path(0, 60_000, D(10), D(12), D(9), D(11))
    assert [p.price for p in bull] == [D(10), D(9), D(12), D(11)]
    bear = candle_path(0, 60_000, D(10), D(12), D(9), D("9.5"))
    assert [p.price for p in bear] == [D(10), D(12), D(9), D("9.5")]
    assert [p.time for p in bull] == [0, 20_000, 40_000, 59_999]


def test_seeded_path_is_deterministic_per_seed_and_not_biased() -> None:
    def orders(seed: int) -> list[bool]:
        return [candle_path(t * 60_000, 60_000, D(10), D(12), D(9), D(11), mode="seeded", seed=seed,
                            symbol="X")[1].price == D(9) for t in range(200)]

    assert orders(1) == orders(1)
    assert orders(1) != orders(2)
    assert 60 < sum(orders(1)) < 140


def test_synthetic_market_is_seeded_and_valid() -> None:
    a = generate("BTCUSDT", ORIGIN, 3000, seed=5)
    b = generate("BTCUSDT", ORIGIN, 3000, seed=5)
    c = generate("BTCUSDT", ORIGIN, 3000, seed=6)
    assert np.array_equal(a.close, b.close) and not np.array_equal(a.close, c.close)
    assert np.all(a.high >= np.maximum(a.open, a.close)) and np.all(a.low <= np.minimum(a.open, a.close))
    assert np.all(a.volume > 0)
    returns = np.diff(np.log(a.close))
    rolling = np.array([returns[i:i + 100].std() for i in range(0, len(returns) - 100, 100)])
    assert rolling.max() > 1.5 * rolling.min()  # volatility clusters, not one constant level


def _replay(count: int = 200) -> Replay:
    series = {"BTCUSDT": generate("BTCUSDT", ORIGIN, count, seed=1)}
    return Replay(series, {"BTCUSDT": D("0.01")}, start_ms=ORIGIN + 120 * 60_000)


def _play(replay: Replay, candles: int) -> list[object]:
    played: list[object] = []
    for _ in range(candles):
        for event in replay.step():
            replay.note(event)
            played.append(event)
    return played


def test_decimal_candle_cache_stays_within_its_size_and_answers_the_same() -> None:
    # A months-long in-process run reads every candle once: the cache must not hold them all.
    replay = _replay(count=DECIMAL_CACHE_SIZE + 1_000)
    first = replay.candle("BTCUSDT", 0)
    for i in range(DECIMAL_CACHE_SIZE + 1_000):
        replay.candle("BTCUSDT", i)
        assert len(replay._decimal_cache) <= DECIMAL_CACHE_SIZE
    assert replay.candle("BTCUSDT", 0) == first  # recomputed after eviction, same Decimals


def test_step_emits_points_then_the_closed_candle() -> None:
    replay = _replay()
    events = _play(replay, 1)
    assert [type(e).__name__ for e in events] == ["PricePoint"] * 4 + ["CandleClosed"]
    closed = events[-1]
    assert isinstance(closed, CandleClosed) and closed.bar.closed and closed.time == ORIGIN + 121 * 60_000
    rows = replay.klines("BTCUSDT", Timeframe.M1, limit=1)
    assert rows[0].open_time == ORIGIN + 120 * 60_000 and rows[0].close == closed.bar.close


def test_rest_klines_only_up_to_now_and_higher_timeframes_aggregate_the_base() -> None:
    replay = _replay()
    _play(replay, 7)  # now = ORIGIN + 127 min
    bars_1m = replay.klines("BTCUSDT", Timeframe.M1, limit=1000)
    assert bars_1m[-1].open_time == ORIGIN + 126 * 60_000 and len(bars_1m) == 127
    bars_5m = replay.klines("BTCUSDT", Timeframe.M5, limit=1000)
    last = bars_5m[-1]
    assert last.open_time == ORIGIN + 125 * 60_000 and not last.closed  # 2 of 5 minutes played
    members = [b for b in bars_1m if last.open_time <= b.open_time]
    assert last.high == max(b.high for b in members) and last.low == min(b.low for b in members)
    assert last.open == members[0].open and last.close == members[-1].close
    full = bars_5m[-2]
    assert full.closed and full.volume == sum((b.volume for b in bars_1m if full.open_time <= b.open_time
                                              < last.open_time), D(0))


def test_live_bar_matches_rest_at_every_point() -> None:
    replay = _replay()
    _play(replay, 3)
    for event in replay.step():
        replay.note(event)
        if isinstance(event, PricePoint):
            live = replay.live_bar("BTCUSDT", Timeframe.M5, event.bar)
            rest = replay.klines("BTCUSDT", Timeframe.M5, limit=1)[-1]
            assert (live.open_time, live.open, live.high, live.low, live.close) == (
                rest.open_time, rest.open, rest.high, rest.low, rest.close)


def test_klines_start_and_end_time_selection() -> None:
    replay = _replay()
    _play(replay, 5)
    start = ORIGIN + 10 * 60_000
    rows = replay.klines("BTCUSDT", Timeframe.M1, start_ms=start, limit=3)
    assert [r.open_time for r in rows] == [start, start + 60_000, start + 120_000]
    rows = replay.klines("BTCUSDT", Timeframe.M1, start_ms=start, end_ms=start + 60_000, limit=10)
    assert len(rows) == 2


def test_symbol_from_binance_dump_name() -> None:
    assert symbol_from_filename(Path("BTCUSDT-5m-2024-01.csv")) == "BTCUSDT"


def test_loads_binance_dumps_in_ms_and_us() -> None:
    folder = DATA / "binance_spot_raw_5m"
    files = sorted(folder.glob("BTCUSDT-5m-2024-12.csv")) + sorted(folder.glob("BTCUSDT-5m-2025-01.csv"))
    if len(files) < 2:
        pytest.skip("shared 5m dumps not available")
    series = load_data_args([f"BTCUSDT={files[0]},{files[1]}"])["BTCUSDT"]
    assert series.timeframe is Timeframe.M5
    assert np.all(np.diff(series.open_time) == 300_000)  # the µs file was normalised to ms
