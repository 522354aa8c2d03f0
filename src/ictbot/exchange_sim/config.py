"""Configuration of one simulator instance (everything has a test-friendly default)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.domain.instrument import Instrument
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.market.series import CandleSeries

STEP_MODE = 0.0
AS_FAST_AS_POSSIBLE = math.inf


@dataclass(frozen=True)
class SimConfig:
    """``speed``: 0 = stepped (time moves only on ``control.step``), 1 = real time, N = N× real
    time, ``math.inf`` = as fast as possible. Data: ``data_paths`` (``--data`` syntax) or
    preloaded ``series``; neither → the seeded synthetic market for ``symbols``."""

    host: str = "127.0.0.1"
    port: int = 0
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    data_paths: tuple[str, ...] = ()
    series: dict[str, CandleSeries] | None = None
    # Filters to publish and enforce for these symbols (e.g. the backtest's instrument) instead of
    # the templates / price-derived ones of ``symbols.spec_for``.
    instruments: tuple[Instrument, ...] = ()
    synthetic_timeframe: Timeframe = Timeframe.M1
    synthetic_candles: int = 10_080  # one week of 1m candles
    start_ms: int | None = None  # replay start; default: after ``warmup_candles`` of history
    synthetic_origin_ms: int | None = None  # first synthetic candle; default: now − warm-up, floored
    warmup_candles: int = 500
    speed: float = STEP_MODE
    seed: int = 0
    path_mode: str = "ohlc"
    futures: bool = True
    keys_file: str | None = None
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    weight_limit_1m: int = 6000
    orders_limit_10s: int = 100
    orders_limit_1d: int = 200_000
    raw_requests_limit_5m: int = 300_000
    futures_weight_limit_1m: int = 2400
    requests_until_ban: int = 3  # further requests while rate limited before a 418 ban
    ban_seconds: int = 120  # first ban; doubles on each further ban (Binance: 2 minutes to 3 days)
    verify_timestamps: bool = True
    strict_time: bool = False  # recvWindow against the replay clock only (default: replay or wall clock)
    kline_updates: bool = True  # also emit x:false updates at every intra-candle point
    ping_interval_s: float = 20.0
    ws_message_rate_limit: int = 0  # incoming messages/s per market-stream connection (Binance: 5); 0 = off
    funding_rate: Decimal = Decimal("0.0001")
    funding_interval_ms: int = 8 * 3_600_000
    listen_key_ttl_ms: int = 60 * 60_000
    state_file: str | None = None  # pickle of the exchange state on shutdown, loaded on start
    # A symbol the instrument catalogue lacks is refused unless this asks for price-level filters.
    derive_unknown_filters: bool = False
