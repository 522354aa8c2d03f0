"""Configuration, endpoint presets, wiring, and static conformance to the ports."""

from __future__ import annotations

import pytest

from ictbot.adapters.binance import (
    BinanceConfig,
    BinanceEndpoints,
    BinanceFuturesVenue,
    BinanceRestClient,
    BinanceVenue,
    SpotUserDataStream,
    build_venue,
)
from ictbot.adapters.binance.kline_feed import BinanceKlineFeed
from ictbot.domain.errors import ConfigError
from ictbot.domain.market import Market
from ictbot.ports.market_data import HistoricalCandles, MarketDataFeed
from ictbot.ports.venue import ExecutionVenue


def test_presets_and_urls() -> None:
    main = BinanceEndpoints.mainnet()
    assert main.rest == "https://api.binance.com" and main.ws_api.endswith("/ws-api/v3")
    assert BinanceEndpoints.testnet().rest == "https://testnet.binance.vision"
    local = BinanceEndpoints.preset("local", 8123)
    assert local.rest == "http://127.0.0.1:8123" and local.ws_api == "ws://127.0.0.1:8123/ws-api/v3"
    assert local.combined_stream_url(["btcusdt@kline_1m", "ethusdt@kline_1h"]) == (
        "ws://127.0.0.1:8123/stream?streams=btcusdt@kline_1m/ethusdt@kline_1h"
    )
    assert local.futures_user_stream_url("k") == "ws://127.0.0.1:8123/fstream/private/ws/k"
    assert local.combined_stream_url(["a"], futures=True) == "ws://127.0.0.1:8123/fstream/market/stream?streams=a"
    assert main.combined_stream_url(["a"], futures=True) == "wss://fstream.binance.com/market/stream?streams=a"
    assert main.futures_user_stream_url("KEY") == "wss://fstream.binance.com/private/ws/KEY"
    with pytest.raises(ValueError):
        BinanceEndpoints.preset("moon")
    with pytest.raises(ValueError):
        BinanceEndpoints.preset("local")


def test_config_from_env_keeps_secrets_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICTBOT_BINANCE_ENV", "local")
    monkeypatch.setenv("ICTBOT_BINANCE_LOCAL_PORT", "9001")
    monkeypatch.setenv("ICTBOT_BINANCE_API_KEY", "EnvApiKey123456789")
    monkeypatch.setenv("ICTBOT_BINANCE_API_SECRET", "EnvSecret-very-secret")
    config = BinanceConfig.from_env()
    assert config.endpoints().rest == "http://127.0.0.1:9001"
    assert "EnvSecret" not in repr(config) and "EnvApiKey123456789" not in repr(config)
    credentials = config.credentials()
    assert credentials is not None and "EnvSecret" not in repr(credentials)


def test_config_errors() -> None:
    with pytest.raises(ConfigError):
        BinanceConfig(environment="moon").endpoints()
    with pytest.raises(ConfigError):
        BinanceConfig(api_key="k").credentials()
    assert BinanceConfig().credentials() is None


async def test_build_venue_spot_and_futures() -> None:
    spot = build_venue(BinanceConfig(environment="local", local_port=1, api_key="k", api_secret="s"))
    assert type(spot) is BinanceVenue and isinstance(spot.user_stream, SpotUserDataStream)
    futures = build_venue(BinanceConfig(environment="local", local_port=1, market=Market.USDM))
    assert type(futures) is BinanceFuturesVenue and futures.user_stream is None
    # static conformance to the ports (checked by mypy on this file)
    venue: ExecutionVenue = spot
    history: HistoricalCandles = spot.client
    feed: MarketDataFeed = BinanceKlineFeed.from_client(spot.client)
    assert venue is spot and history is spot.client and isinstance(feed, BinanceKlineFeed)
    assert isinstance(spot.client, BinanceRestClient)
    await spot.client.aclose()
    await futures.client.aclose()
