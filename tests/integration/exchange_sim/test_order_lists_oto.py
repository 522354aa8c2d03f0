"""OTO / OTOCO order lists against the REST API: the working order on the book, the pending ones
placed by the exchange when it fills (an OCO pair for OTOCO), cancel semantics, user-stream events."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import httpx
import websockets

from ictbot.exchange_sim import SimulatorServer
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.instruments import default_catalogue
from tests.integration.exchange_sim.conftest import call, scripted_config
from tests.integration.exchange_sim.test_streams import drain, subscribe_user

BALANCES = MatchingConfig(initial_balances={"USDT": D("10000")})


async def _list(client: httpx.AsyncClient, sim: SimulatorServer, list_id: int) -> dict[str, Any]:
    reply = await call(client, sim, "GET", "/api/v3/orderList", orderListId=list_id)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def _open(client: httpx.AsyncClient, sim: SimulatorServer) -> list[tuple[str, str]]:
    orders = (await call(client, sim, "GET", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    return sorted((o["type"], o["status"]) for o in orders)


async def test_otoco_working_fill_places_the_oco_pair_and_the_target_ends_the_list() -> None:
    rows: list[tuple[float, float, float, float, float]] = [
        (50_000, 50_050, 49_800, 49_950, 1), (49_950, 50_600, 49_900, 50_550, 1)]
    async with (
        SimulatorServer(scripted_config(rows, matching=BALANCES)) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
        websockets.connect(sim.ws_api_url) as ws,
    ):
        await subscribe_user(sim, ws)
        placed = await call(
            client, sim, "POST", "/api/v3/orderList/otoco", symbol="BTCUSDT",
            workingType="LIMIT", workingSide="BUY", workingPrice="49900.00", workingQuantity="0.01000",
            workingTimeInForce="GTC", workingClientOrderId="entry-1", pendingSide="SELL",
            pendingQuantity="0.00999", pendingAboveType="LIMIT_MAKER", pendingAbovePrice="50500.00",
            pendingBelowType="STOP_LOSS_LIMIT", pendingBelowStopPrice="49500.00", pendingBelowPrice="49400.00",
            pendingBelowTimeInForce="GTC",
        )
        assert placed.status_code == 200, placed.text
        body = placed.json()
        assert (body["contingencyType"], body["listStatusType"], body["listOrderStatus"]) == (
            "OTO", "EXEC_STARTED", "EXECUTING")
        assert [r["status"] for r in body["orderReports"]] == ["NEW", "PENDING_NEW", "PENDING_NEW"]
        assert await _open(client, sim) == [("LIMIT", "NEW")]  # pending orders are not on the book

        await sim.control.step(1)  # trades through 49,900: the working order fills, the pair goes live
        assert await _open(client, sim) == [("LIMIT_MAKER", "NEW"), ("STOP_LOSS_LIMIT", "NEW")]
        assert (await _list(client, sim, body["orderListId"]))["listOrderStatus"] == "EXECUTING"

        await sim.control.step(1)  # reaches 50,600: the target fills, the stop expires, the list is done
        done = await _list(client, sim, body["orderListId"])
        assert (done["listStatusType"], done["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
        assert await _open(client, sim) == []
        events = [f["event"] for f in await drain(ws)]
    reports = [(e["o"], e["x"], e["X"]) for e in events if e["e"] == "executionReport"]
    assert ("LIMIT", "NEW", "NEW") in reports and ("LIMIT", "TRADE", "FILLED") in reports
    assert ("LIMIT_MAKER", "NEW", "PENDING_NEW") in reports and ("LIMIT_MAKER", "NEW", "NEW") in reports
    assert ("LIMIT_MAKER", "TRADE", "FILLED") in reports and ("STOP_LOSS_LIMIT", "EXPIRED", "EXPIRED") in reports
    lists = [(e["c"], e["L"]) for e in events if e["e"] == "listStatus"]
    assert lists[0] == ("OTO", "EXECUTING") and lists[-1] == ("OTO", "ALL_DONE")


async def test_oto_cancelling_the_working_order_cancels_the_pending_one_and_frees_the_funds() -> None:
    rows: list[tuple[float, float, float, float, float]] = [(50_000, 50_050, 49_950, 50_000, 1)]
    async with (
        SimulatorServer(scripted_config(rows, matching=BALANCES)) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        placed = (await call(
            client, sim, "POST", "/api/v3/orderList/oto", symbol="BTCUSDT",
            workingType="LIMIT", workingSide="BUY", workingPrice="49000.00", workingQuantity="0.01000",
            workingTimeInForce="GTC", workingClientOrderId="entry-2", pendingType="LIMIT", pendingSide="SELL",
            pendingPrice="51000.00", pendingQuantity="0.00999", pendingTimeInForce="GTC",
        )).json()
        assert [r["status"] for r in placed["orderReports"]] == ["NEW", "PENDING_NEW"]
        balances = {b["asset"]: b for b in (await call(client, sim, "GET", "/api/v3/account")).json()["balances"]}
        assert D(balances["USDT"]["locked"]) == D("490")  # only the working order reserves funds
        canceled = await call(client, sim, "DELETE", "/api/v3/order", symbol="BTCUSDT",
                              origClientOrderId="entry-2")
        assert canceled.status_code == 200, canceled.text
        statuses = [o["status"] for o in (await call(client, sim, "GET", "/api/v3/allOrders",
                                                        symbol="BTCUSDT")).json()]
        assert statuses == ["CANCELED", "CANCELED"]
        assert (await _list(client, sim, placed["orderListId"]))["listOrderStatus"] == "ALL_DONE"
        balances = {b["asset"]: b for b in (await call(client, sim, "GET", "/api/v3/account")).json()["balances"]}
        assert (D(balances["USDT"]["free"]), D(balances["USDT"]["locked"])) == (D("10000"), D("0"))


async def test_otoco_refuses_a_pending_pair_on_the_wrong_sides_of_the_working_price() -> None:
    async with (
        SimulatorServer(scripted_config([(50_000, 50_050, 49_950, 50_000, 1)], matching=BALANCES)) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        refused = await call(
            client, sim, "POST", "/api/v3/orderList/otoco", symbol="BTCUSDT",
            workingType="LIMIT", workingSide="BUY", workingPrice="49900.00", workingQuantity="0.01000",
            workingTimeInForce="GTC", pendingSide="SELL", pendingQuantity="0.00999",
            pendingAboveType="LIMIT_MAKER", pendingAbovePrice="49800.00",  # below the working price
            pendingBelowType="STOP_LOSS", pendingBelowStopPrice="49500.00",
        )
        assert refused.status_code == 400 and refused.json()["code"] == -2010, refused.text
        market = await call(
            client, sim, "POST", "/api/v3/orderList/oto", symbol="BTCUSDT", workingType="MARKET",
            workingSide="BUY", workingQuantity="0.01000", pendingType="LIMIT", pendingSide="SELL",
            pendingPrice="51000.00", pendingQuantity="0.00999", pendingTimeInForce="GTC",
        )
        assert market.status_code == 400 and market.json()["code"] == -1102, market.text
        assert (await call(client, sim, "GET", "/api/v3/allOrders", symbol="BTCUSDT")).json() == []


async def test_an_unfilled_fok_working_order_expires_its_pending_pair_with_it() -> None:
    async with (
        SimulatorServer(scripted_config([(50_000, 50_050, 49_950, 50_000, 1)], matching=BALANCES)) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        placed = await call(
            client, sim, "POST", "/api/v3/orderList/otoco", symbol="BTCUSDT",
            workingType="LIMIT", workingSide="BUY", workingPrice="49000.00", workingQuantity="0.01000",
            workingTimeInForce="FOK", pendingSide="SELL", pendingQuantity="0.00999",
            pendingAboveType="LIMIT_MAKER", pendingAbovePrice="51000.00",
            pendingBelowType="STOP_LOSS_LIMIT", pendingBelowStopPrice="48000.00", pendingBelowPrice="47900.00",
            pendingBelowTimeInForce="GTC",
        )
        assert placed.status_code == 200, placed.text
        body = placed.json()
        assert [(r["status"], r.get("expiryReason")) for r in body["orderReports"]] == [
            ("EXPIRED", "UNFILLED_FOK_ORDER_EXPIRED"), ("EXPIRED", "OTO_PHASE_ONE_EXPIRED"),
            ("EXPIRED", "OTO_PHASE_ONE_EXPIRED")]
        assert (await _list(client, sim, body["orderListId"]))["listOrderStatus"] == "ALL_DONE"
        assert await _open(client, sim) == []


async def test_otoallowed_comes_from_the_catalogue_and_a_symbol_without_it_refuses_lists() -> None:
    no_oto = replace(default_catalogue().instrument("BTCUSDT"), oto_allowed=False)
    config = scripted_config([(50_000, 50_050, 49_950, 50_000, 1)], matching=BALANCES, instruments=(no_oto,))
    async with SimulatorServer(config) as sim, httpx.AsyncClient(base_url=sim.base_url) as client:
        info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
        assert info["symbols"][0]["otoAllowed"] is False
        refused = await call(
            client, sim, "POST", "/api/v3/orderList/oto", symbol="BTCUSDT",
            workingType="LIMIT", workingSide="BUY", workingPrice="49000.00", workingQuantity="0.01000",
            workingTimeInForce="GTC", pendingType="LIMIT", pendingSide="SELL",
            pendingPrice="51000.00", pendingQuantity="0.00999", pendingTimeInForce="GTC",
        )
        assert refused.status_code == 400 and refused.json()["code"] == -2010, refused.text
    async with (
        SimulatorServer(scripted_config([(50_000, 50_050, 49_950, 50_000, 1)])) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        # The shipped 2021 snapshot predates OTO lists: published as Binance does today for BTCUSDT.
        info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
        assert info["symbols"][0]["otoAllowed"] is True
