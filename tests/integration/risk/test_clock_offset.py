"""A local clock ten minutes off in either direction: the bot starts and trades (issue #16.5).

The bot's own clock is shifted while the simulator keeps its time; "closed candle" must be decided
by the exchange's clock (its ``/time`` offset), not the local one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ictbot.api import dto as f
from ictbot.ports.clock import OffsetClock
from tests.integration.risk.restart_support import buy_manually, simulator, start_bot, step

TEN_MINUTES_MS = 600_000


@pytest.mark.parametrize("offset_ms", [TEN_MINUTES_MS, -TEN_MINUTES_MS], ids=["ahead", "behind"])
async def test_bot_with_skewed_local_clock_starts_and_trades(tmp_path: Path, offset_ms: int) -> None:
    sim = simulator()
    await sim.start()
    await sim.control.step_to_close()  # inside a candle: the exchange has one still open
    try:
        application, pipeline = await start_bot(tmp_path, sim, clock=OffsetClock(sim.clock, offset_ms))
        try:
            assert pipeline.venue.client.server_time.offset_ms == pytest.approx(-offset_ms, abs=1_000)
            stored = await pipeline.candle_store.load("ETHUSDT", pipeline.base)
            assert stored and stored[-1].close_time <= sim.clock.now_ms()  # nothing still open was stored
            await step(application, pipeline, sim, 2)
            await buy_manually(application, pipeline, sim)
            position = pipeline.execution.positions.open_positions()[0]
            assert position.qty > 0 and not pipeline.execution.executor.unprotected_positions()
            assert pipeline.risk.trading_state.value == f.TradingState.ACTIVE.value
            assert not pipeline.execution.executor.block_reasons
        finally:
            await application.stop()
    finally:
        await sim.stop()
