"""Seeded synthetic market: trending/ranging regimes, volatility clusters and liquidity sweeps.

Deterministic for (seed, symbol): the same call always returns the same candles. Log-returns
follow a regime-switching drift (Markov chain over up-trend / down-trend / range) with a
GARCH(1,1)-like variance so quiet and wild stretches cluster. Now and then a candle sweeps the
recent high (or low) with a wick and closes back inside — the liquidity grabs ICT strategies
look for.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.market.series import CandleSeries

START_PRICES = {"BTCUSDT": 60000.0, "ETHUSDT": 3000.0, "BNBUSDT": 500.0, "SOLUSDT": 150.0, "XRPUSDT": 0.6}
_REGIME_DRIFT = (0.00012, -0.00012, 0.0)  # per 1m candle: up-trend, down-trend, range
_REGIME_STAY = 0.995
_SWEEP_PROBABILITY = 0.02
_SWEEP_LOOKBACK = 30


def _rng(seed: int, symbol: str) -> np.random.Generator:
    mixed = int.from_bytes(hashlib.sha256(f"{seed}|{symbol}".encode()).digest()[:8], "big")
    return np.random.default_rng(mixed)


def generate(symbol: str, start_ms: int, count: int, timeframe: Timeframe = Timeframe.M1, seed: int = 0,
             start_price: float | None = None) -> CandleSeries:
    rng = _rng(seed, symbol)
    scale = float(np.sqrt(timeframe.ms / Timeframe.M1.ms))
    price = start_price or START_PRICES.get(symbol, 100.0)
    base_vol = 0.0008 * scale
    # Draw every random number up front (one vectorised call each); the loop only does the
    # recursions (regime, variance, price) that depend on the previous candle.
    switch = (rng.random(count) > _REGIME_STAY).tolist()
    new_regime = rng.integers(0, 3, count).tolist()
    shocks = rng.standard_normal(count).tolist()
    wick_up = np.abs(rng.standard_normal(count)).tolist()
    wick_down = np.abs(rng.standard_normal(count)).tolist()
    sweep = (rng.random(count) < _SWEEP_PROBABILITY).tolist()
    sweep_high = (rng.random(count) < 0.5).tolist()
    volume_noise = rng.lognormal(0.0, 0.5, count).tolist()
    variance = base_vol**2
    regime = 2
    opens, highs, lows, closes, volumes = ([0.0] * count for _ in range(5))
    for i in range(count):
        if switch[i]:
            regime = new_regime[i]
        sigma = math.sqrt(variance)
        shock = shocks[i]
        ret = _REGIME_DRIFT[regime] * scale + sigma * shock
        variance = 0.05 * base_vol**2 + 0.10 * (sigma * shock) ** 2 + 0.85 * variance
        open_ = price
        close = open_ * math.exp(ret)
        wick = math.sqrt(variance)
        high = max(open_, close) * math.exp(wick_up[i] * wick * 0.6)
        low = min(open_, close) * math.exp(-wick_down[i] * wick * 0.6)
        if i >= _SWEEP_LOOKBACK and sweep[i]:
            recent_high = max(highs[i - _SWEEP_LOOKBACK:i])
            recent_low = min(lows[i - _SWEEP_LOOKBACK:i])
            if sweep_high[i] and recent_high > max(open_, close):
                high = max(high, recent_high * (1 + wick))  # run the buy-side liquidity, close back below
            elif recent_low < min(open_, close):
                low = min(low, recent_low * (1 - wick))
        opens[i], highs[i], lows[i], closes[i] = open_, high, low, close
        volumes[i] = volume_noise[i] * (1 + 400 * wick) * 10 * scale / max(price / 1000, 0.001)
        price = close
    open_times = start_ms + np.arange(count, dtype=np.int64) * timeframe.ms
    return CandleSeries(symbol, timeframe, open_times, np.array(opens), np.array(highs), np.array(lows),
                        np.array(closes), np.array(volumes), synthetic=True)
