"""WebSocket connection helpers shared by the market feed and the user-data streams."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect

# Binance pings every 20 s (spot) / 3 min (USD-M) and drops us after 1 min / 10 min without a pong;
# the library answers pings itself. Our own pings detect a dead TCP path sooner.
PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 20.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# Binance closes every connection after 24 h; we roll over well before that.
MAX_CONNECTION_AGE_MS = 23 * 3_600_000


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter: ``uniform(0, min(max, initial * factor**n))``."""

    initial_s: float = 0.5
    maximum_s: float = 30.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum_s, self.initial_s * self.factor**self.attempt)
        self.attempt += 1
        # Half fixed, half random: never a zero-delay hammering loop, still de-synchronised.
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempt = 0


def open_ws(url: str, **overrides: Any) -> connect:
    """``websockets`` connect with Binance-appropriate defaults (no proxy for loopback hosts)."""
    host = urlsplit(url).hostname or ""
    options: dict[str, Any] = {
        "ping_interval": PING_INTERVAL_S,
        "ping_timeout": PING_TIMEOUT_S,
        "max_size": MAX_MESSAGE_BYTES,
        "open_timeout": 10,
        "close_timeout": 2,
        "compression": None,
    }
    if host in ("127.0.0.1", "localhost", "::1"):
        options["proxy"] = None
    options.update(overrides)
    return connect(url, **options)


__all__ = ["MAX_CONNECTION_AGE_MS", "Backoff", "ClientConnection", "open_ws"]
