"""Testnet/live with overridden URLs: the user-data stream goes to the configured host, never Binance's."""

from __future__ import annotations

import asyncio

from ictbot.adapters.binance.factory import build_venue
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.wiring import binance_config
from ictbot.exchange_sim import SimulatorServer
from tests.integration.exchange_sim.conftest import small_config


async def test_overridden_urls_connect_the_user_stream_to_the_simulator() -> None:
    async with SimulatorServer(small_config()) as sim:
        settings = Settings(  # type: ignore[call-arg]
            TRADING_MODE=TradingMode.TESTNET, BINANCE_API_KEY="overridekey", BINANCE_SECRET_KEY="overridesecret",
            BINANCE_REST_URL=sim.base_url, BINANCE_WS_URL=sim.ws_url, BINANCE_WS_API_URL=sim.ws_api_url,
        )
        venue = build_venue(binance_config(settings, None, None))
        stream = venue.user_stream
        assert stream is not None
        try:
            await venue.client.sync_time()
            await stream.start()
            async with asyncio.timeout(10):
                await stream.connected.wait()
            assert stream.subscriptions == 1
            assert f"url={sim.ws_api_url}" in repr(stream)
            assert "binance" not in repr(stream)
        finally:
            await stream.stop()
            await venue.client.aclose()
