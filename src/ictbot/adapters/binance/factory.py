"""Wiring: one config object → REST client, venue and user stream sharing one budget and clock.

The application settings (``ictbot.app``) can hold a ``BinanceConfig`` or build one with
``BinanceConfig.from_env()``; secrets are ``repr=False`` and never logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import RateBudget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials
from ictbot.adapters.binance.user_stream import FuturesUserDataStream, SpotUserDataStream
from ictbot.adapters.binance.venue import BinanceFuturesVenue, BinanceVenue
from ictbot.domain.errors import ConfigError
from ictbot.domain.market import Market
from ictbot.ports.clock import Clock


@dataclass(frozen=True)
class BinanceConfig:
    environment: str = "testnet"  # mainnet | testnet | demo | local
    local_port: int | None = None
    market: Market = Market.SPOT
    api_key: str = field(default="", repr=False)
    api_secret: str = field(default="", repr=False)  # HMAC
    ed25519_key_path: Path | None = None  # preferred by Binance; PEM (PKCS#8)
    ed25519_key_password: str = field(default="", repr=False)
    recv_window_ms: int = 5000
    timeout_s: float = 10.0
    endpoints_override: BinanceEndpoints | None = None

    @classmethod
    def from_env(cls, prefix: str = "ICTBOT_BINANCE_") -> BinanceConfig:
        env = os.environ
        port = env.get(prefix + "LOCAL_PORT")
        key_path = env.get(prefix + "ED25519_KEY_PATH")
        return cls(
            environment=env.get(prefix + "ENV", "testnet"),
            local_port=int(port) if port else None,
            market=Market(env.get(prefix + "MARKET", "spot")),
            api_key=env.get(prefix + "API_KEY", ""),
            api_secret=env.get(prefix + "API_SECRET", ""),
            ed25519_key_path=Path(key_path) if key_path else None,
            ed25519_key_password=env.get(prefix + "ED25519_KEY_PASSWORD", ""),
            recv_window_ms=int(env.get(prefix + "RECV_WINDOW_MS", "5000")),
        )

    def endpoints(self) -> BinanceEndpoints:
        if self.endpoints_override is not None:
            return self.endpoints_override
        try:
            return BinanceEndpoints.preset(self.environment, self.local_port)
        except ValueError as exc:
            raise ConfigError("binance", [("environment", str(exc))]) from None

    def credentials(self) -> Credentials | None:
        if not self.api_key:
            return None
        if self.ed25519_key_path is not None:
            password = self.ed25519_key_password.encode() or None
            return Credentials.ed25519(self.api_key, self.ed25519_key_path.read_bytes(), password)
        if self.api_secret:
            return Credentials.hmac(self.api_key, self.api_secret)
        raise ConfigError("binance", [("api_secret", "an API key needs an HMAC secret or an Ed25519 key path")])


def build_client(
    config: BinanceConfig, *, budget: RateBudget | None = None, clock: Clock | None = None, market: Market | None = None
) -> BinanceRestClient:
    return BinanceRestClient(
        config.endpoints(),
        config.credentials(),
        market=market or config.market,
        budget=budget,
        clock=clock,
        timeout=config.timeout_s,
        recv_window_ms=config.recv_window_ms,
    )


def build_venue(config: BinanceConfig, *, budget: RateBudget | None = None, clock: Clock | None = None) -> BinanceVenue:
    """Venue for ``config.market`` with its user-data stream (when credentials are configured)."""
    client = build_client(config, budget=budget, clock=clock)
    credentials = config.credentials()
    if config.market is Market.USDM:
        futures_stream = FuturesUserDataStream(client) if credentials else None
        return BinanceFuturesVenue(client, futures_stream)
    spot_stream = None
    if credentials is not None:
        spot_stream = SpotUserDataStream(
            config.endpoints(),
            credentials,
            client.server_time,
            resync_time=client.sync_time,
            recv_window_ms=config.recv_window_ms,
        )
    return BinanceVenue(client, spot_stream)
