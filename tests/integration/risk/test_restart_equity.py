"""A restart with an open spot position: no phantom loss, no halt, exposure known at once (issue #16.1)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ictbot.api import dto as f
from ictbot.app.facade import PipelineFacade
from tests.integration.risk.restart_support import (
    SYMBOL,
    buy_manually,
    simulator,
    start_bot,
    step,
    true_spot_equity,
)


async def test_restart_with_open_spot_position_keeps_equity_and_trading(tmp_path: Path) -> None:
    sim = simulator()
    await sim.start()
    try:
        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await step(application, pipeline, sim, 2)
            equity_before = pipeline.account.equity()
            await buy_manually(application, pipeline, sim)
            position = pipeline.execution.positions.open_positions()[0]
            notional = position.qty * sim.control.price(SYMBOL)
            assert Decimal("0.09") < notional / equity_before < Decimal("0.13")
        finally:
            await application.stop()

        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await application.bus.wait_idle()
            report = await PipelineFacade(application, pipeline).risk_report()
            truth = true_spot_equity(sim)
            one_fee = notional * Decimal("0.001")
            assert report.trading_state is f.TradingState.ACTIVE, pipeline.breakers.book.trips
            assert abs(report.equity - truth) <= one_fee, (report.equity, truth)
            assert report.exposure > notional * Decimal("0.9")
            assert report.daily_pnl > -2 * one_fee  # no phantom loss against the day's baseline
            assert pipeline.breakers.book.peak_equity is not None
            assert pipeline.breakers.book.peak_equity - truth < 2 * one_fee
        finally:
            await application.stop()
    finally:
        await sim.stop()
