"""End to end, OTOCO entries: ExecutionService → Binance adapter → simulator on 127.0.0.1.

A spot entry on a symbol whose exchangeInfo says ``otoAllowed`` goes out as one
``POST /api/v3/orderList/otoco``: the exchange itself places the stop/target OCO the moment the entry
fills, so a bot that is down at that moment leaves nothing unprotected.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from ictbot.domain.events import OrderIntent
from ictbot.domain.order import OrderLeg, OrderStatus, OrderType, TimeInForce
from ictbot.domain.signal import EntryType
from tests.integration.execution.test_simulator_e2e import CONFIG, FLAT, KEY, Books, bot, until
from tests.unit.execution.harness import make_intent

sim_mod = pytest.importorskip("ictbot.exchange_sim")
sim_conftest = pytest.importorskip("tests.integration.exchange_sim.conftest")

D = Decimal
LISTS = replace(CONFIG, entry_lists=True)
DIP = FLAT + [(50_000.0, 50_000.0, 49_900.0, 49_950.0, 5.0)] * 2  # trades through a 49,960 limit entry


def _ours(sim: object) -> dict[str, Any]:
    return {o.client_order_id: o for o in sim.control.orders(KEY, "BTCUSDT")}  # type: ignore[attr-defined]


def _leg_status(sim: object) -> dict[str, str]:
    return {cid.rsplit("-", 1)[1]: o.status for cid, o in _ours(sim).items()}  # type: ignore[attr-defined]


def _dip_entry() -> OrderIntent:
    """A limit buy just under the market that the scripted dip fills, one target above, one stop below."""
    return make_intent(qty="0.01", entry_type=EntryType.LIMIT, entry="49960", stop="49000", targets=("51000",))


async def test_market_entry_is_one_fok_otoco_and_the_stop_leg_closes_the_position() -> None:
    rows = FLAT + [(50_000.0, 50_000.0, 48_500.0, 48_600.0, 5.0)] * 2
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(rows)) as sim:
        books = Books()
        async with bot(sim, books, LISTS) as service:
            entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("51000",)))
            assert (entry.type, entry.time_in_force, entry.list_id) == (
                OrderType.LIMIT, TimeInForce.FOK, f"{entry.position_id}-L0")
            assert entry.price == D("50250.00")  # reference 50,000 + 0.5 % cap
            await until(lambda: service.positions.get(entry.position_id) is not None
                        and service.executor.protection_deficit(entry.position_id, confirmed=True) == 0)
            assert _leg_status(sim) == {"E0": "FILLED", "S0": "NEW", "T0": "NEW"}  # nothing placed by the bot
            stop = _ours(sim)[f"{entry.position_id}-S0"]
            assert stop.orig_qty == D("0.00999")  # the fee (0.00001 BTC) came out of the coins bought

            await sim.control.step(7)
            await until(lambda: service.positions.get(entry.position_id) is None
                        and not service.executor.open_orders())
            legs = {o.leg: o.status for o in books.journal.orders.values()}
            assert legs[OrderLeg.STOP] is OrderStatus.FILLED
            assert legs[OrderLeg.TAKE_PROFIT] is OrderStatus.EXPIRED
            assert sim.control.open_orders(KEY) == []
            assert len(_ours(sim)) == 3


async def test_bot_down_when_the_entry_fills_the_exchange_holds_the_stop_and_a_restart_adds_nothing() -> None:
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(DIP)) as sim:
        books = Books()
        async with bot(sim, books, LISTS) as first:
            entry = await first.executor.submit_intent(
                _dip_entry())
            await until(lambda: books.journal.orders[entry.client_order_id].status is OrderStatus.NEW)
            assert first.executor.protection_deficit(entry.position_id) == 0  # no position yet
        # The bot is gone (its executor stopped right after the submit); the entry fills meanwhile.
        await sim.control.step(7)
        assert _leg_status(sim) == {"E0": "FILLED", "S0": "NEW", "T0": "NEW"}
        live = sorted((o.type, o.side, o.orig_qty) for o in sim.control.open_orders(KEY))
        assert live == [("LIMIT_MAKER", "SELL", D("0.00999")), ("STOP_LOSS_LIMIT", "SELL", D("0.00999"))]

        async with bot(sim, books, LISTS) as second:
            await until(lambda: second.positions.get(entry.position_id) is not None
                        and second.executor.protection_deficit(entry.position_id, confirmed=True) == 0)
            await second.executor.drain()
            position = second.positions.get(entry.position_id)
            assert position is not None and position.qty == D("0.00999") and position.stop_loss == D("49000")
            assert {o.client_order_id.rsplit("-", 1)[1] for o in second.executor.open_orders()} == {"S0", "T0"}
            assert second.health()["last_reconcile"]["clean"] is True
            assert second.executor.unprotected_positions() == []
        assert len(_ours(sim)) == 3  # no duplicate, no extra protection


async def test_restart_before_the_fill_recognises_the_pending_legs_then_the_fill_is_protected() -> None:
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(DIP)) as sim:
        books = Books()
        async with bot(sim, books, LISTS) as first:
            entry = await first.executor.submit_intent(
                _dip_entry())
            await until(lambda: books.journal.orders[entry.client_order_id].status is OrderStatus.NEW)
        async with bot(sim, books, LISTS) as second:
            assert second.health()["last_reconcile"]["clean"] is True
            assert _leg_status(sim) == {"E0": "NEW", "S0": "PENDING_NEW", "T0": "PENDING_NEW"}
            again = await second.executor.submit_intent(
                _dip_entry())
            assert again.client_order_id == entry.client_order_id  # the same signal: never a second list
            await sim.control.step(7)
            await until(lambda: second.positions.get(entry.position_id) is not None
                        and second.executor.protection_deficit(entry.position_id, confirmed=True) == 0)
            await second.executor.drain()
            assert second.health()["last_reconcile"]["clean"] is True
        assert _leg_status(sim) == {"E0": "FILLED", "S0": "NEW", "T0": "NEW"}


async def test_two_targets_are_two_lists_each_protecting_its_own_tranche() -> None:
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(FLAT)) as sim:
        books = Books()
        async with bot(sim, books, LISTS) as service:
            entry = await service.executor.submit_intent(
                make_intent(qty="0.02", stop="49000", targets=("51000", "52000")))
            await until(lambda: service.positions.get(entry.position_id) is not None
                        and service.executor.protection_deficit(entry.position_id, confirmed=True) == 0)
            await service.executor.drain()
            assert _leg_status(sim) == {"E0": "FILLED", "S0": "NEW", "T0": "NEW",
                                        "E1": "FILLED", "S1": "NEW", "T1": "NEW"}
            targets = sorted((o.price, o.orig_qty) for o in sim.control.open_orders(KEY) if o.type == "LIMIT_MAKER")
            assert targets == [(D("51000.00"), D("0.00999")), (D("52000.00"), D("0.00999"))]
            position = service.positions.get(entry.position_id)
            assert position is not None and position.qty == D("0.01998")


async def test_a_partly_filled_working_order_gets_its_filled_part_protected_by_the_bot() -> None:
    # Binance places the pending OCO only once the working order is fully filled: until then the bot
    # protects what has filled with its own OCO; at the full fill the exchange cannot place the
    # pending pair for coins that OCO holds (its legs expire) and the bot covers the rest.
    matching = sim_mod.MatchingConfig(participation=D("0.001"))
    rows = FLAT + [(50_000.0, 50_000.0, 49_900.0, 49_950.0, 5.0)] * 6
    async with sim_mod.SimulatorServer(sim_conftest.scripted_config(rows, matching=matching)) as sim:
        books = Books()
        async with bot(sim, books, LISTS) as service:
            entry = await service.executor.submit_intent(
                _dip_entry())
            await until(lambda: books.journal.orders[entry.client_order_id].status is OrderStatus.NEW)
            await sim.control.step(6)
            await until(lambda: books.journal.orders[entry.client_order_id].status is OrderStatus.PARTIALLY_FILLED)
            await until(lambda: service.positions.get(entry.position_id) is not None
                        and not service.executor.unprotected_positions() and _stop_cover(sim) > 0)
            partly = books.journal.orders[entry.client_order_id]
            assert partly.status is OrderStatus.PARTIALLY_FILLED  # the pending legs are still waiting
            assert _leg_status(sim)["S0"] == "PENDING_NEW"
            assert _stop_cover(sim) == D("0.00331")  # what filled (0.00332) less the fee, on the step

            await sim.control.step(5)
            await until(lambda: books.journal.orders[entry.client_order_id].status is OrderStatus.FILLED
                        and _stop_cover(sim) > D("0.009") and not service.executor.unprotected_positions())
            await service.executor.drain()
            position = service.positions.get(entry.position_id)
            assert position is not None and _stop_cover(sim) <= position.qty
            assert position.qty - _stop_cover(sim) < D("0.00001")  # all but the step's rounding
            assert (_leg_status(sim)["S0"], _leg_status(sim)["T0"]) == ("EXPIRED", "EXPIRED")
            assert service.health()["last_reconcile"]["clean"] is True


def _stop_cover(sim: object) -> Decimal:
    return sum((o.orig_qty - o.executed_qty for o in sim.control.open_orders(KEY)  # type: ignore[attr-defined]
                if o.type == "STOP_LOSS_LIMIT"), D(0))
