from __future__ import annotations

import pytest

from ictbot.app.settings import Settings, TradingMode, validate_environment
from ictbot.app.wiring import PAPER_API_KEY, binance_config
from ictbot.domain.errors import ConfigError


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
    urls = {"BINANCE_REST_URL": "http://127.0.0.1:9/", "BINANCE_WS_URL": "ws://127.0.0.1:9",
            "BINANCE_WS_API_URL": "ws://127.0.0.1:9/ws-api/v3"}
    custom = binance_config(Settings(**base, **urls), None, None).endpoints()  # type: ignore[arg-type]
    assert (custom.rest, custom.ws) == ("http://127.0.0.1:9", "ws://127.0.0.1:9")
    assert custom.ws_api == urls["BINANCE_WS_API_URL"]
    assert custom.fapi_rest == preset.fapi_rest  # USD-M has its own pair of overrides


@pytest.mark.parametrize("missing", ["BINANCE_WS_URL", "BINANCE_WS_API_URL"])
def test_rest_override_without_the_websocket_urls_is_refused(missing: str) -> None:
    urls = {"BINANCE_REST_URL": "http://127.0.0.1:9", "BINANCE_WS_URL": "ws://127.0.0.1:9",
            "BINANCE_WS_API_URL": "ws://127.0.0.1:9/ws-api/v3"}
    del urls[missing]
    settings = Settings(TRADING_MODE=TradingMode.TESTNET, BINANCE_API_KEY="k" * 16,  # type: ignore[call-arg]
                        BINANCE_SECRET_KEY="s" * 16, **urls)
    problems = validate_environment(settings)
    assert len(problems) == 1 and problems[0].startswith(f"{missing} is not set while BINANCE_REST_URL is")
    with pytest.raises(ConfigError, match=missing):
        binance_config(settings, None, None)


def test_futures_rest_override_needs_the_futures_stream_url() -> None:
    settings = Settings(TRADING_MODE=TradingMode.LIVE, TESTNET=False, BINANCE_API_KEY="k" * 16,  # type: ignore[call-arg]
                        BINANCE_SECRET_KEY="s" * 16, BINANCE_FUTURES_REST_URL="http://127.0.0.1:9")
    assert [p.split(" ")[0] for p in validate_environment(settings)] == ["BINANCE_FUTURES_WS_URL"]
    complete = settings.model_copy(update={"binance_futures_ws_url": "ws://127.0.0.1:9/fstream"})
    assert validate_environment(complete) == []
    endpoints = binance_config(complete, None, None).endpoints()
    assert endpoints.futures_user_stream_url("k") == "ws://127.0.0.1:9/fstream/private/ws/k"


def test_paper_mode_ignores_url_overrides() -> None:
    settings = Settings(TRADING_MODE=TradingMode.PAPER, BINANCE_REST_URL="http://x")  # type: ignore[call-arg]
    assert validate_environment(settings) == []
