"""A lost exit report (the stop's or target's ``executionReport``) is recovered by reconciliation.

The campaign's ``user_event_loss`` in a deterministic form: in-process bot, stepped simulator, the
next execution report after the entry is dropped, the exit fills, two reconciliation rounds; the
bot's position is closed and its fills equal the exchange's trades. (Campaign seed 5007 ended with
a stop fill missing after a lost entry reply, a lost event and a database connection loss together;
this single-fault form does not reproduce it — see docs/reliability.md.)
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from ictbot.app.wiring import PAPER_API_KEY, Pipeline
from ictbot.exchange_sim import SimulatorServer
from ictbot.ports.clock import Clock
from tests.integration.risk.restart_support import (
    SYMBOL,
    buy_manually,
    held_base,
    simulator,
    start_bot,
    step,
)


async def _trade_ids(sim: SimulatorServer, pipeline: Pipeline) -> tuple[set[str], set[str]]:
    """The trade ids the exchange has for the symbol, and those the bot booked."""
    exchange = {str(t.trade_id) for t in sim.control.trades(PAPER_API_KEY, SYMBOL)}
    booked = {str(fill.trade_id) for fill in await pipeline.fills.recent(SYMBOL, limit=1000)}
    return exchange, booked


@pytest.mark.timeout(200)
async def test_an_exit_whose_report_is_lost_is_recovered_by_reconciliation(tmp_path: Path) -> None:
    sim = simulator()
    await sim.start()
    try:
        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await step(application, pipeline, sim, 2)
            await buy_manually(application, pipeline, sim, stop="0.996", target="1.016", protected=True)
            # The buy's commission is taken in ETH: less than a lot step of the position is not under
            # the stop, and no stop could cover it. That is not a re-arm (it used to log rearmed=1).
            assert pipeline.execution.positions.open_positions()[0].qty % Decimal("0.0001") != 0
            assert (await pipeline.execution.reconcile("periodic")).rearmed == 0
            sim.control.drop_next_events("executionReport", 1)  # the exit's fill report is lost
            for _ in range(400):
                if held_base(sim) < Decimal("0.001"):
                    break
                await step(application, pipeline, sim, 1)
            assert held_base(sim) < Decimal("0.001"), "the exit did not fill: the scenario did not happen"
            assert sim.control.open_orders(PAPER_API_KEY) == []  # nothing left open at the exchange
            assert sim.control.sim.faults.dropped_events["executionReport"] == 0  # a report really was lost
            for _ in range(2):
                await pipeline.execution.reconcile("periodic")
                await pipeline.execution.executor.drain()
                await application.bus.wait_idle()
            still_open = pipeline.execution.positions.open_positions()
            exchange_trades, bot_trades = await _trade_ids(sim, pipeline)
        finally:
            await application.stop()
    finally:
        await sim.stop()
    assert still_open == []
    assert bot_trades == exchange_trades and len(exchange_trades) >= 2  # the entry and the exit


class _SlowClock:
    """The simulator's clock, slowed ``rate`` times from the moment of ``slow_down``: the campaign's
    bot on the wall clock against an exchange replaying at 120× (it re-measures its offset only every
    10 minutes of its own time, or when a request is refused for its timestamp)."""

    def __init__(self, inner: Clock) -> None:
        self._inner = inner
        self._anchor_inner = self._anchor_own = inner.now_ms()
        self._rate = 1.0

    def slow_down(self, rate: float) -> None:
        self._anchor_own, self._anchor_inner, self._rate = self.now_ms(), self._inner.now_ms(), rate

    def now_ms(self) -> int:
        return self._anchor_own + int((self._inner.now_ms() - self._anchor_inner) / self._rate)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@pytest.mark.timeout(200)
async def test_a_lost_exit_report_is_recovered_when_the_bots_clock_lags_the_exchange(tmp_path: Path) -> None:
    """Found 2 (docs/reliability.md): the campaign's simulator then skipped the timestamp check
    (``--lenient-time``) while replaying at 120×, so nothing made the bot re-measure its offset and its
    estimate of the exchange's clock fell minutes behind. Every trade lookup was cut off at that
    estimate: the reconciler's window (from its last trade − 60 s) lay wholly past it and sent no
    request, so the stop's fill, whose report was lost, was never found. An exchange that accepts the
    bot's timestamps must not make its trades invisible: here, from the entry on, the exchange's clock
    runs 120× faster than the bot's and nothing rejects its requests.
    (It failed before the fix: the position stayed open, the target's trade "detail pending".)"""
    sim = simulator(verify_timestamps=False)
    await sim.start()
    clock = _SlowClock(sim.clock)
    try:
        application, pipeline = await start_bot(tmp_path, sim, clock=clock)
        try:
            await step(application, pipeline, sim, 2)
            await buy_manually(application, pipeline, sim, stop="0.996", target="1.016", protected=True)
            await pipeline.execution.reconcile("periodic")  # the reconciler has seen the entry's trade
            clock.slow_down(120.0)
            sim.control.drop_next_events("executionReport", 2)  # the exit's reports are lost
            for _ in range(400):
                if held_base(sim) < Decimal("0.001"):
                    break
                await sim.control.step(1)
                await asyncio.sleep(0.02)
            assert held_base(sim) < Decimal("0.001"), "the exit did not fill: the scenario did not happen"
            assert sim.control.sim.faults.dropped_events["executionReport"] == 0
            for _ in range(2):
                await pipeline.execution.reconcile("periodic")
                await pipeline.execution.executor.drain()
            still_open = pipeline.execution.positions.open_positions()
            exchange_trades, bot_trades = await _trade_ids(sim, pipeline)
        finally:
            await application.stop()
    finally:
        await sim.stop()
    assert still_open == []
    assert bot_trades == exchange_trades and len(exchange_trades) >= 2
