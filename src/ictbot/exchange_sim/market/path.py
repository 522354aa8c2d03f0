"""The price path inside one candle: the order in which its open, high, low and close traded.

Only OHLC is known, so the path is a model. ``ohlc`` (default, binance-protocol.md B4): a
bullish candle goes open → low → high → close, a bearish one open → high → low → close (the
path with the shorter wick first is not knowable; this convention is the common one).
``seeded``: each candle chooses between the two orders from a hash of (seed, symbol, open
time) — deterministic for a seed, but without a systematic bias. ``adversarial`` is reserved for
a later version (it needs to know the bot's position).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

PATH_MODES = ("ohlc", "seeded")


@dataclass(frozen=True, slots=True)
class PathPoint:
    time: int
    price: Decimal


def low_first(open_: Decimal, close: Decimal, mode: str, seed: int, symbol: str, open_time: int) -> bool:
    if mode == "seeded":
        digest = hashlib.sha256(f"{seed}|{symbol}|{open_time}".encode()).digest()
        return digest[0] % 2 == 0
    return close >= open_


def candle_path(
    open_time: int, duration_ms: int, o: Decimal, h: Decimal, low: Decimal, c: Decimal,
    *, mode: str = "ohlc", seed: int = 0, symbol: str = "",
) -> list[PathPoint]:
    """Four points: open at ``open_time``, the extremes at 1/3 and 2/3, the close at the last ms."""
    first, second = (low, h) if low_first(o, c, mode, seed, symbol, open_time) else (h, low)
    third = duration_ms // 3
    return [
        PathPoint(open_time, o),
        PathPoint(open_time + third, first),
        PathPoint(open_time + 2 * third, second),
        PathPoint(open_time + duration_ms - 1, c),
    ]
