"""The UTC trading day is the exchange's (issue #16.5): a local clock ten minutes off either way
neither resets the daily-loss baseline early nor late.

The simulator replays the last minutes before a UTC midnight; the bot's own clock is shifted. The
breakers and the risk gate read the exchange's clock (the offset the Binance client measures), so
the day changes when the exchange's midnight passes, not the local one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ictbot.ports.clock import OffsetClock
from ictbot.risk.breakers import utc_day
from tests.integration.risk.restart_support import simulator, start_bot, step

TEN_MINUTES_MS = 600_000
CANDLE_MS = 300_000
MIDNIGHT_MS = int(datetime(2026, 11, 30, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("offset_ms", [TEN_MINUTES_MS, -TEN_MINUTES_MS], ids=["local-ahead", "local-behind"])
async def test_the_trading_day_changes_at_the_exchanges_midnight(tmp_path: Path, offset_ms: int) -> None:
    start = MIDNIGHT_MS - 30 * 60_000  # the exchange at 23:30 UTC
    sim = simulator(start_ms=start, synthetic_origin_ms=start - 600 * CANDLE_MS)
    await sim.start()
    try:
        local = OffsetClock(sim.clock, offset_ms)
        application, pipeline = await start_bot(tmp_path, sim, clock=local)
        try:
            exchange_day_before = utc_day(sim.clock.now_ms())
            # Ahead: stop while the exchange is still before midnight and the local clock past it.
            # Behind: go on until the exchange is past midnight and the local clock still before it.
            while (sim.clock.now_ms() < MIDNIGHT_MS - 5 * 60_000 if offset_ms > 0
                   else sim.clock.now_ms() < MIDNIGHT_MS + 2 * 60_000):
                await step(application, pipeline, sim, 1)
            await pipeline.breakers.refresh()
            exchange_day, local_day = utc_day(sim.clock.now_ms()), utc_day(local.now_ms())
            book = pipeline.breakers.book
            risk_now = pipeline.risk.clock.now_ms()
            exchange_now = sim.clock.now_ms()
        finally:
            await application.stop()
    finally:
        await sim.stop()
    assert local_day != exchange_day  # the scenario: the two clocks are on either side of midnight
    assert book.day == exchange_day
    assert abs(risk_now - exchange_now) < 60_000  # the risk gate's "now" (cooldowns) is the exchange's too
    if offset_ms < 0:
        assert exchange_day != exchange_day_before  # the day did change, on the exchange's midnight
        assert book.day_start_equity == book.last_equity  # and the daily-loss baseline was taken anew
