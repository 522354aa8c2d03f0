"""Replayed view fields (trend, ATR, events, leg, dealing range, windows) == the streaming engine's.

Oracle: ``MultiTimeframeEngine`` fed as a backtest feeds it, views read on every candle of a real
month (March 2024: the US DST switch moves the New York windows).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")  # the replay runs the compiled kernels

from ictbot.adapters.files import read_candle_file
from ictbot.backtest.data import MarketData, aggregate_frame
from ictbot.backtest.ict import IndicatorSnapshots
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.kernels import compute_columns
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.replay.frame import Candles, FrameReplay
from ictbot.indicators.replay.rows import EventRows
from ictbot.indicators.replay.windows import SessionCalendar
from tests.conftest import DATA, require_shared

HIGHER = (Timeframe.M15, Timeframe.H1, Timeframe.H4)


@pytest.fixture(scope="module")
def month() -> MarketData:
    frame = read_candle_file(require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv"))
    return MarketData("BTCUSDT", Timeframe.M5, frame)


def _replays(data: MarketData) -> dict[str, FrameReplay]:
    frame = data.frame
    base_close = frame.open_time + Timeframe.M5.ms
    out = {}
    for tf in (Timeframe.M5, *HIGHER):
        series = frame if tf is Timeframe.M5 else aggregate_frame(frame, Timeframe.M5, tf)
        cols = compute_columns(series.open_time, series.open, series.high, series.low, series.close, tf)
        delivery = None if tf is Timeframe.M5 else np.searchsorted(
            base_close, series.open_time + tf.ms, side="left").astype(np.int64)
        candles = Candles(series.open_time, series.open, series.high, series.low, series.close)
        out[tf.value] = FrameReplay(EventRows(cols), candles, IndicatorParams(), 200, delivery)
    return out


def test_every_non_zone_field_equals_the_streaming_view_on_every_candle(month: MarketData) -> None:
    replays = _replays(month)
    streaming = IndicatorSnapshots(MultiTimeframeEngine(Timeframe.M5, HIGHER), month, HIGHER)
    sessions = SessionCalendar(month.frame.open_time, Timeframe.M5.ms, IndicatorParams().sessions.windows)
    compared = 0
    legs = ranges = 0
    for j in range(len(month)):
        snapshot = streaming.at(j, None)  # type: ignore[arg-type]
        assert sessions.active(j) == snapshot.active_windows, j
        for name, replay in replays.items():
            view = snapshot.views.get(name)
            delivery = replay.delivery
            k = j if delivery is None else int(np.searchsorted(delivery, j, side="right")) - 1
            if view is None:
                assert k < 0
                continue
            got = (replay.close_time(k), replay.close(k), replay.trend(k, "internal"), replay.trend(k, "swing"),
                   replay.atr_at(k), replay.leg(k), replay.dealing_range(k))
            want = (view.last_close_time, view.close, view.trend, view.swing_trend, view.atr, view.leg,
                    view.dealing_range)
            assert got == want, (j, name)
            assert replay.recent(k) == view.recent_events, (j, name)
            assert replay.new(k) == view.new_events, (j, name)
            compared += 1
            legs += view.leg is not None
            ranges += view.dealing_range is not None
    assert compared > 4 * len(month) - 200
    assert legs > len(month) and ranges > len(month)  # the interesting fields are mostly present


def test_session_mask_matches_the_active_windows(month: MarketData) -> None:
    sessions = SessionCalendar(month.frame.open_time, Timeframe.M5.ms, IndicatorParams().sessions.windows)
    mask = sessions.mask(("london_kz", "ny_am_kz"))
    expected = [any(w in ("london_kz", "ny_am_kz") for w in sessions.active(j)) for j in range(len(month))]
    assert mask.tolist() == expected
    assert 0 < int(mask.sum()) < len(month)
