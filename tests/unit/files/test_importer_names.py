from __future__ import annotations

import pytest

from ictbot.adapters.files.importer import FileSeries, infer_series
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe


@pytest.mark.parametrize(("name", "expected"), [
    ("BTCUSDT-5m-2024-01.csv", FileSeries("BTCUSDT", Timeframe.M5, Market.SPOT)),
    ("/x/y/ETHUSDT-1h-2025-02-03.zip", FileSeries("ETHUSDT", Timeframe.H1, Market.SPOT)),
    ("BTC_USDT-1m.feather", FileSeries("BTCUSDT", Timeframe.M1, Market.SPOT)),
    ("ETH_USDT-4h.feather", FileSeries("ETHUSDT", Timeframe.H4, Market.SPOT)),
    ("BTC_USDT_USDT-15m-futures.feather", FileSeries("BTCUSDT", Timeframe.M15, Market.USDM)),
    ("BTC_USDT_USDT-1h-mark.feather", None),
    ("BTCUSDT-1s-2024-01.csv", None),
    ("candles.csv", None),
])
def test_series_from_file_names(name: str, expected: FileSeries | None) -> None:
    assert infer_series(name) == expected
