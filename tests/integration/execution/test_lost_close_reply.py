"""A close whose reply is lost: the exit is found by query and what is left (dust) is written off at
once, as after a normal close — never an open, unprotected remainder (issue #16, item 9)."""

from __future__ import annotations

import asyncio

import pytest

from ictbot.domain.order import OrderLeg, OrderStatus
from tests.integration.execution.test_simulator_e2e import CONFIG, FLAT, KEY, Books, bot, sim_conftest, sim_mod, until
from tests.unit.execution.harness import make_intent


@pytest.mark.parametrize("mode", ["error_503", "hang"])
async def test_a_close_whose_reply_is_lost_leaves_no_dust_position(mode: str) -> None:
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(FLAT)) as sim:
        books = Books()
        async with bot(sim, books, CONFIG) as service:
            executor = service.executor
            entry = await executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("51000",)))
            await until(lambda: service.positions.get(entry.position_id) is not None
                        and not executor.unprotected_positions())
            await executor.drain()
            sim.control.lose_next_response("POST", "/api/v3/order", mode=mode, after_commit=True, hang_seconds=4.0)
            await executor.close_position(entry.position_id)
            await until(lambda: service.positions.get(entry.position_id) is None)
            await executor.drain()
            exits = [o for o in books.journal.orders.values() if o.leg is OrderLeg.EXIT]
            assert [o.status for o in exits] == [OrderStatus.FILLED]  # exactly one exit, found by query
            assert sim.control.open_orders(KEY) == []
            assert executor.unprotected_positions() == [] and not executor.open_orders()


async def test_bot_stopped_while_its_close_is_in_flight_then_restart_closes_the_books() -> None:
    qty = "0.01237"  # the exit sells 0.01235 (fee 0.00001237 came out): the rest is dust
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(FLAT)) as sim:
        books = Books()
        async with bot(sim, books, CONFIG) as first:
            entry = await first.executor.submit_intent(make_intent(qty=qty, stop="49000", targets=("51000",)))
            await until(lambda: first.positions.get(entry.position_id) is not None
                        and not first.executor.unprotected_positions())
            await first.executor.drain()
            sim.control.lose_next_response("POST", "/api/v3/order", mode="hang", after_commit=True, hang_seconds=4.0)
            closing = asyncio.ensure_future(first.executor.close_position(entry.position_id))
            # The exchange has executed the exit; its reply hangs: the bot stops right then.
            await until(lambda: any("-X" in o.client_order_id for o in sim.control.orders(KEY, "BTCUSDT")))
            closing.cancel()
        async with bot(sim, books, CONFIG) as second:
            await until(lambda: second.positions.get(entry.position_id) is None)
            await second.executor.drain()
            exits = [o for o in books.journal.orders.values() if o.leg is OrderLeg.EXIT]
            assert [o.status for o in exits] == [OrderStatus.FILLED]
            assert sim.control.open_orders(KEY) == []
