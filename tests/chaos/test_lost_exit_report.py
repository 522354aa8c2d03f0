"""A lost exit report (the stop's or target's ``executionReport``) is recovered by reconciliation.

The campaign's ``user_event_loss`` in a deterministic form: in-process bot, stepped simulator, the
next execution report after the entry is dropped, the exit fills, two reconciliation rounds; the
bot's position is closed and its fills equal the exchange's trades. (Campaign seed 5007 ended with
a stop fill missing after a lost entry reply, a lost event and a database connection loss together;
this single-fault form does not reproduce it — see docs/reliability.md.)
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ictbot.app.wiring import PAPER_API_KEY
from tests.integration.risk.restart_support import (
    SYMBOL,
    buy_manually,
    held_base,
    simulator,
    start_bot,
    step,
)


@pytest.mark.timeout(200)
async def test_an_exit_whose_report_is_lost_is_recovered_by_reconciliation(tmp_path: Path) -> None:
    sim = simulator()
    await sim.start()
    try:
        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await step(application, pipeline, sim, 2)
            await buy_manually(application, pipeline, sim, stop="0.996", target="1.016", protected=True)
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
            exchange_trades = {str(t.trade_id) for t in sim.control.trades(PAPER_API_KEY, SYMBOL)}
            bot_trades = {str(fill.trade_id) for fill in await pipeline.fills.recent(SYMBOL, limit=1000)}
        finally:
            await application.stop()
    finally:
        await sim.stop()
    assert still_open == []
    assert bot_trades == exchange_trades and len(exchange_trades) >= 2  # the entry and the exit
