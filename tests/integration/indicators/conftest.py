"""Real-data fixtures (slices of the shared Binance files, loaded once per session)."""

from __future__ import annotations

import pytest

from ictbot.adapters.files import read_candle_file
from ictbot.domain.candle_frame import CandleFrame
from tests.conftest import DATA, require_shared


@pytest.fixture(scope="session")
def btc_5m_raw() -> CandleFrame:
    path = require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv")  # US DST switch inside
    return read_candle_file(path)


@pytest.fixture(scope="session")
def btc_5m_feather() -> CandleFrame:
    path = require_shared(DATA / "feather" / "harthor_marketlab" / "BTC_USDT-5m.feather")
    return read_candle_file(path)
