from __future__ import annotations

import pytest

from ictbot.app.settings import Settings, TradingMode
from ictbot.app.wiring import PAPER_API_KEY, binance_config


def test_paper_mode_points_at_the_simulator_with_placeholder_keys() -> None:
    config = binance_config(Settings(TRADING_MODE=TradingMode.PAPER), 4567, None)  # type: ignore[call-arg]
    assert config.endpoints().rest == "http://127.0.0.1:4567"
    assert config.api_key == PAPER_API_KEY


def test_paper_mode_without_a_simulator_is_an_error() -> None:
    with pytest.raises(ValueError, match="simulator"):
        binance_config(Settings(TRADING_MODE=TradingMode.PAPER), None, None)  # type: ignore[call-arg]


def test_testnet_uses_the_preset_unless_urls_are_overridden() -> None:
    base = {"TRADING_MODE": TradingMode.TESTNET, "BINANCE_API_KEY": "k" * 16, "BINANCE_SECRET_KEY": "s" * 16}
    preset = binance_config(Settings(**base), None, None).endpoints()  # type: ignore[arg-type]
    assert "testnet" in preset.rest
    custom = binance_config(Settings(**base, BINANCE_REST_URL="http://127.0.0.1:9"), None, None)  # type: ignore[arg-type]
    assert custom.endpoints().rest == "http://127.0.0.1:9" and custom.endpoints().ws == preset.ws
