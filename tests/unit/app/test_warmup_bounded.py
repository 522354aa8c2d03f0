"""Start-up warm-up is bounded: a fetch that never finishes stops the start with what it waited for."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from ictbot.app.warmup import warm_up
from ictbot.domain.errors import ExchangeError
from ictbot.domain.timeframe import Timeframe


class _StalledClient:
    """An exchange that answers the clock but never delivers klines (a rate-limit wait, a dead link)."""

    def __init__(self) -> None:
        self.server_time = SimpleNamespace(now_ms=lambda: 1_700_000_100_000)
        self.budget = SimpleNamespace(last_wait=(0, 63_900, "REQUEST_WEIGHT 5700+2 > 5700 per 60s"))

    async def fetch_klines(self, *args: Any, **kwargs: Any) -> list[Any]:
        await asyncio.sleep(3600)
        return []


async def test_a_stalled_warm_up_stops_with_the_symbol_and_the_rate_limit_wait() -> None:
    pipeline: Any = SimpleNamespace(venue=SimpleNamespace(client=_StalledClient()), base=Timeframe.M5,
                                    symbols=("ETHUSDT",), context=())
    with pytest.raises(ExchangeError) as caught:
        await warm_up(pipeline, 2880, timeout_s=0.05)
    message = str(caught.value)
    assert message.startswith("warm-up of ETHUSDT 5m did not finish in 0 s: 0 of ~2880 candles received")
    assert "last rate-limit wait 63.9 s: REQUEST_WEIGHT 5700+2 > 5700 per 60s" in message
