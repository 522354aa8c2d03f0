"""A fill whose trade lookup fails is not booked under an invented id; after a restart it is booked
once, with the exchange's trade id, and nothing halts (issue #16.2)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ictbot.api import dto as f
from ictbot.app.facade import PipelineFacade
from ictbot.app.wiring import PAPER_API_KEY
from ictbot.risk.state import TradingState
from tests.integration.execution.test_simulator_e2e import CONFIG, FLAT, KEY, Books, bot, sim_conftest, sim_mod, until
from tests.integration.risk.restart_support import SYMBOL, simulator, start_bot, step, wait_for, wait_stepping
from tests.unit.execution.harness import make_intent


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


async def test_an_entry_executed_while_its_trades_are_pending_is_protected_at_once() -> None:
    """Plain path (no OTOCO): the entry's executed quantity is not in the position until its trades
    arrive, but it is held on the exchange, so it gets its stop now, not when the lookup succeeds."""
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(FLAT)) as sim:
        books = Books()
        async with bot(sim, books, CONFIG) as service:
            sim.control.lose_next_response("POST", "/api/v3/order", mode="error_503", after_commit=True)
            sim.control.drop_next_events("executionReport", 10)
            sim.control.lose_next_response("GET", "/api/v3/myTrades", mode="error_503", after_commit=False,
                                           count=100_000)
            entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("51000",)))
            executor = service.executor
            await until(lambda: executor.details.get(entry.client_order_id) is not None)
            await until(lambda: any(o.type == "STOP_LOSS_LIMIT" for o in sim.control.open_orders(KEY)))
            stop = next(o for o in sim.control.open_orders(KEY) if o.type == "STOP_LOSS_LIMIT")
            assert stop.side == "SELL" and stop.stop_price == Decimal("49000.00")
            assert stop.orig_qty == Decimal("0.00999")  # all the coins held (the fee came out of them)
            assert service.positions.get(entry.position_id) is None  # still nothing booked

            sim.control.sim.faults.response_faults.clear()  # the exchange answers myTrades again
            await until(lambda: executor.details.get(entry.client_order_id) is None
                        and service.positions.get(entry.position_id) is not None)
            await executor.drain()
            assert executor.protection_deficit(entry.position_id, confirmed=True) == 0
            assert executor.unprotected_positions() == []
            stops = [o for o in sim.control.open_orders(KEY) if o.type == "STOP_LOSS_LIMIT"]
            assert [o.client_order_id for o in stops] == [stop.client_order_id]  # no second stop
