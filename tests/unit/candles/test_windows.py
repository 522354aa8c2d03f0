from __future__ import annotations

from ictbot.candles.windows import CandleWindows
from ictbot.domain.timeframe import Timeframe
from tests.unit.candles.builders import candle

M1 = Timeframe.M1


def test_keeps_the_last_n_per_symbol_and_timeframe() -> None:
    windows = CandleWindows(size=3)
    for i in range(5):
        windows.push(candle(i))
    windows.push(candle(0, tf=Timeframe.M5))
    assert [c.open_time for c in windows.last("BTCUSDT", M1)] == [candle(i).open_time for i in (2, 3, 4)]
    assert [c.open_time for c in windows.last("BTCUSDT", M1, 2)] == [candle(i).open_time for i in (3, 4)]
    assert windows.latest("BTCUSDT", Timeframe.M5) == candle(0, tf=Timeframe.M5)
    assert windows.last("ETHUSDT", M1) == [] and windows.latest("ETHUSDT", M1) is None
    assert windows.keys() == [("BTCUSDT", M1), ("BTCUSDT", Timeframe.M5)]
    frame = windows.frame("BTCUSDT", M1)
    assert len(frame) == 3 and frame.close.tolist() == [11.0, 11.0, 11.0]


def test_same_open_time_replaces_older_is_ignored() -> None:
    windows = CandleWindows(size=10)
    windows.push(candle(1))
    assert windows.push(candle(1, c="11.5")) is True
    assert windows.push(candle(0)) is False
    assert [str(c.close) for c in windows.last("BTCUSDT", M1)] == ["11.5"]
