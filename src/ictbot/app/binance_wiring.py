"""Which Binance endpoints and keys the bot uses: the simulator in paper mode, else Binance's preset
for the environment with every URL the settings override (all of a group or none, see
``settings.endpoint_override_problems``)."""

from __future__ import annotations

import dataclasses

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.factory import BinanceConfig
from ictbot.app.settings import Settings, TradingMode, endpoint_override_problems
from ictbot.domain.errors import ConfigError

PAPER_API_KEY = "paper-trading-key"
PAPER_SECRET = "paper-trading-secret-not-a-real-key"


def binance_config(settings: Settings, sim_port: int | None, endpoints: BinanceEndpoints | None) -> BinanceConfig:
    if settings.trading_mode is TradingMode.PAPER:
        if endpoints is None and sim_port is None:
            raise ValueError("paper mode needs the simulator's port or endpoints")
        return BinanceConfig(environment="local", local_port=sim_port, api_key=PAPER_API_KEY,
                             api_secret=PAPER_SECRET, endpoints_override=endpoints)
    key = settings.binance_api_key.get_secret_value() if settings.binance_api_key else ""
    secret = settings.binance_secret_key.get_secret_value() if settings.binance_secret_key else ""
    environment = "testnet" if settings.trading_mode is TradingMode.TESTNET or settings.testnet else "mainnet"
    if endpoints is None:
        endpoints = overridden_endpoints(settings, BinanceEndpoints.preset(environment))
    return BinanceConfig(environment=environment, api_key=key, api_secret=secret,
                         ed25519_key_path=settings.binance_private_key_path, endpoints_override=endpoints)


def overridden_endpoints(settings: Settings, preset: BinanceEndpoints) -> BinanceEndpoints | None:
    """The preset with every URL the environment overrides (None: nothing overridden)."""
    overrides = {
        "rest": settings.binance_rest_url, "ws": settings.binance_ws_url, "ws_api": settings.binance_ws_api_url,
        "fapi_rest": settings.binance_futures_rest_url, "fapi_ws": settings.binance_futures_ws_url,
    }
    given = {name: url.rstrip("/") for name, url in overrides.items() if url}
    if not given:
        return None
    problems = endpoint_override_problems(settings)
    if problems:
        raise ConfigError("endpoint overrides", [("environment", problem) for problem in problems])
    return dataclasses.replace(
        preset, rest=given.get("rest", preset.rest), ws=given.get("ws", preset.ws),
        ws_api=given.get("ws_api", preset.ws_api), fapi_rest=given.get("fapi_rest", preset.fapi_rest),
        fapi_ws=given.get("fapi_ws", preset.fapi_ws), name="custom",
    )
