"""A fill whose trade lookup fails is not booked under an invented id; after a restart it is booked
once, with the exchange's trade id, and nothing halts (issue #16.2)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ictbot.app.facade import PipelineFacade
from ictbot.app.wiring import PAPER_API_KEY
from ictbot.ports import facade as f
from ictbot.risk.state import TradingState
from tests.integration.risk.restart_support import SYMBOL, simulator, start_bot, step, wait_for, wait_stepping


async def test_fill_without_trade_detail_is_completed_after_restart_without_halt(tmp_path: Path) -> None:
    sim = simulator()
    await sim.start()
    try:
        application, pipeline = await start_bot(tmp_path, sim)
        try:
            await step(application, pipeline, sim, 2)
            # The order executes but its reply is lost and its stream events vanish, and every
            # trade lookup fails: the outcome is learnt by query, which has no trade detail.
            # (An entry goes out as an OTOCO list where the symbol allows it, else as a plain order.)
            for path in ("/api/v3/order", "/api/v3/orderList/otoco"):
                sim.control.lose_next_response("POST", path, mode="error_503", after_commit=True)
            sim.control.drop_next_events("executionReport", 10)
            sim.control.lose_next_response("GET", "/api/v3/myTrades", mode="error_503", after_commit=False,
                                           count=100_000)
            price = sim.control.price(SYMBOL)
            view = await PipelineFacade(application, pipeline).create_manual_order(f.ManualOrderRequest(
                symbol=SYMBOL, side="BUY", stop_loss=(price * Decimal("0.91")).quantize(Decimal("0.01")),
                take_profits=[(price * Decimal("1.2")).quantize(Decimal("0.01"))]))
            cid = view.client_order_id
            executor = pipeline.execution.executor
            await wait_stepping(application, pipeline, sim, lambda: executor.details.get(cid) is not None)
            assert await pipeline.fills.for_order(cid) == []  # nothing booked under a made-up id
            assert f"trade-detail:{cid}" in executor.block_reasons
            assert pipeline.risk.trading_state is TradingState.ACTIVE
        finally:
            await application.stop()

        sim.control.sim.faults.response_faults.clear()  # the exchange answers myTrades again
        application, pipeline = await start_bot(tmp_path, sim)
        try:
            executor = pipeline.execution.executor
            await wait_for(lambda: executor.details.get(cid) is None)
            await executor.drain()
            await application.bus.wait_idle()
            real = [t for t in sim.control.trades(PAPER_API_KEY, SYMBOL) if t.client_order_id == cid]
            booked = await pipeline.fills.for_order(cid)
            assert real and sorted(fill.trade_id for fill in booked) == sorted(str(t.trade_id) for t in real)
            position = pipeline.execution.positions.open_positions()[0]
            assert position.trade_ids == frozenset(str(t.trade_id) for t in real)
            assert pipeline.risk.trading_state is TradingState.ACTIVE, pipeline.breakers.book.trips
            assert executor.stats.mismatches == 0 and not executor.block_reasons
            last = pipeline.execution.reconciler.last
            assert last is not None and last.mismatches == ()
        finally:
            await application.stop()
    finally:
        await sim.stop()
