"""Start-up warm-up: recent history into the candle store and the indicator engine, bounded in time.

An operator watching a start must see what the bot waits for: each symbol's fetch is announced with
its range, and a fetch that does not finish within ``WARMUP_TIMEOUT_S`` stops the start with the
symbol, the candles received so far and the latest rate-limit wait instead of hanging silently.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog

from ictbot.candles.aggregate import aggregate
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.errors import ExchangeError
from ictbot.domain.timeframe import ms_to_datetime

if TYPE_CHECKING:
    from ictbot.app.wiring import Pipeline

log = structlog.get_logger(__name__)

WARMUP_TIMEOUT_S = 180.0  # per symbol; a 1,000-candle page is one request of weight 2


async def warm_up(p: Pipeline, count: int, *, timeout_s: float = WARMUP_TIMEOUT_S) -> None:
    """Load recent history into the store and the indicator engine (no signals are produced)."""
    if count <= 0:
        return
    now = p.venue.client.server_time.now_ms()  # "closed" is the exchange's call, not the local clock's
    start = p.base.floor(now) - count * p.base.ms
    for symbol in p.symbols:
        log.info("warming up", symbol=symbol, timeframe=p.base.value, candles=count,
                 since=ms_to_datetime(start).isoformat())
        received: list[Any] = []
        try:
            await asyncio.wait_for(_fetch_all(p, symbol, start, now, received), timeout_s)
        except TimeoutError:
            raise ExchangeError(
                f"warm-up of {symbol} {p.base.value} did not finish in {timeout_s:.0f} s: {len(received)} of "
                f"~{count} candles received; waiting for klines from the exchange ({_last_wait(p)})"
            ) from None
        history = [c for c in received if c.closed]
        if not history:
            continue
        await _store_and_feed(p, symbol, history)
        log.info("warmed up", symbol=symbol, candles=len(history), timeframe=p.base.value)


async def _store_and_feed(p: Pipeline, symbol: str, history: list[Any]) -> None:
    await p.candle_store.upsert(history)
    frame = CandleFrame.from_candles(history)
    p.engine.warm_up(symbol, p.base, frame, limit=None)
    for tf in p.context:
        higher = aggregate(frame, p.base, tf)
        # Drop the still-forming bucket: HTF candles exist only once closed.
        complete = higher.slice(0, int((higher.open_time + tf.ms <= history[-1].close_time).sum()))
        if len(complete):
            await p.candle_store.upsert(complete.to_candles(symbol, tf))
            p.engine.warm_up(symbol, tf, complete, limit=None)


async def _fetch_all(p: Pipeline, symbol: str, start_ms: int, end_ms: int, out: list[Any]) -> None:
    cursor = start_ms
    while cursor < end_ms:
        page = await p.venue.client.fetch_klines(symbol, p.base, cursor, end_ms, limit=1000)
        if not page:
            break
        out.extend(page)
        cursor = page[-1].open_time + p.base.ms
        if len(page) < 1000:
            break


def _last_wait(p: Pipeline) -> str:
    budget = getattr(p.venue.client, "budget", None)
    wait = getattr(budget, "last_wait", None)
    if not wait:
        return "no rate-limit wait"
    _, wait_ms, cause = wait
    return f"last rate-limit wait {wait_ms / 1000:.1f} s: {cause}"
