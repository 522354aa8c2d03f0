"""Part B15 scenario catalogue: each scenario's exchange-side behaviour, driven in step mode.

The bot is not in this repository's tests yet; each test plays the client role with raw
HTTP/WS and asserts what the simulator does — the conditions the real client must survive.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D
from typing import Any

import httpx
import pytest
import websockets

from ictbot.exchange_sim import SimulatorServer
from ictbot.exchange_sim.engine.config import MatchingConfig
from tests.integration.exchange_sim.conftest import KEY, call, scripted_config, signed
from tests.integration.exchange_sim.test_streams import drain, subscribe_user


async def test_01_cold_start(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    await client.get("/api/v3/exchangeInfo")
    now = (await client.get("/api/v3/time")).json()["serverTime"]
    history = (await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "limit": 500})).json()
    assert len(history) == 500 and history[-1][6] < now  # warm-up history, all closed at start
    async with (
        websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as market,
        websockets.connect(sim.ws_api_url) as user,
    ):
        assert (await subscribe_user(sim, user))["status"] == 200
        await sim.control.step(1)
        assert [f["k"]["x"] for f in await drain(market)][-1] is True
    assert sim.control.requests("/api/v3/exchangeInfo") == 1
    assert not [p for _, p, _ in sim.sim.request_log if p.startswith(("/sapi", "/fapi"))]


async def test_02_closed_candles_once_with_a_dropped_close_backfilled(
    sim: SimulatorServer, client: httpx.AsyncClient
) -> None:
    seen: dict[int, list[str]] = {}
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m", max_queue=None) as ws:
        await sim.control.step(40)
        sim.control.drop_next_events("kline_closed")
        await sim.control.step(60)
        for frame in await drain(ws, 0.3):
            if frame["k"]["x"]:
                seen.setdefault(frame["k"]["t"], []).append(frame["k"]["c"])
    assert len(seen) == 99
    first = min(seen)
    rest = (
        await client.get(
            "/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "startTime": first, "limit": 1000}
        )
    ).json()
    closed_rest = {row[0]: row[4] for row in rest if row[6] < sim.control.now()}
    missing = set(closed_rest) - set(seen)
    assert len(missing) == 1 and len(closed_rest) == 100
    assert all(seen[t] == [closed_rest[t]] for t in seen)  # WS and REST agree, once each


async def test_03_limit_partially_fills_over_three_trades() -> None:
    rows = [(50_000, 50_000, 49_800, 49_900, 0.03)] * 4  # each candle trades 0.01 per path segment
    config = scripted_config(rows, matching=MatchingConfig(participation=D("1")))
    async with (
        SimulatorServer(config) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
        websockets.connect(sim.ws_api_url) as ws,
    ):
        await subscribe_user(sim, ws)
        response = await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price="49950.00",
            quantity="0.03000",
        )
        assert response.json()["status"] == "NEW"
        await sim.control.step(2)
        reports = [f["event"] for f in await drain(ws) if f["event"]["e"] == "executionReport"]
    assert [(r["x"], r["X"]) for r in reports] == [
        ("NEW", "NEW"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("TRADE", "FILLED"),
    ]
    assert all(r["N"] == "BTC" and r["m"] is True for r in reports[1:])
    assert D(reports[-1]["z"]) == D("0.03")


async def test_04_ioc_fok_market_with_thin_depth_expire() -> None:
    config = scripted_config(
        [(50_000, 50_100, 49_900, 50_000, 1)] * 3, matching=MatchingConfig(level_notional=D("500"), depth_levels=2)
    )
    async with SimulatorServer(config) as sim, httpx.AsyncClient(base_url=sim.base_url) as client:
        ioc = (
            await call(
                client,
                sim,
                "POST",
                "/api/v3/order",
                symbol="BTCUSDT",
                side="BUY",
                type="LIMIT",
                timeInForce="IOC",
                price="50100.00",
                quantity="0.05000",
            )
        ).json()
        fok = (
            await call(
                client,
                sim,
                "POST",
                "/api/v3/order",
                symbol="BTCUSDT",
                side="BUY",
                type="LIMIT",
                timeInForce="FOK",
                price="50100.00",
                quantity="0.05000",
            )
        ).json()
        market = (
            await call(
                client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.05000"
            )
        ).json()
    assert (ioc["status"], ioc["expiryReason"]) == ("EXPIRED", "UNFILLED_IOC_QUANTITY_EXPIRED")
    assert D(ioc["executedQty"]) > 0 and len(ioc["fills"]) == 2
    assert (fok["status"], fok["executedQty"], fok["fills"]) == ("EXPIRED", "0.00000000", [])
    assert (market["status"], market["expiryReason"]) == ("EXPIRED", "INSUFFICIENT_LIQUIDITY")


async def test_05_oco_stop_triggers_and_the_other_leg_expires() -> None:
    rows = [(50_000, 50_050, 49_950, 50_000, 1), (50_000, 50_000, 48_500, 48_600, 1)]
    config = scripted_config(rows, matching=MatchingConfig(initial_balances={"USDT": D("1000"), "BTC": D("0.1")}))
    async with (
        SimulatorServer(config) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
        websockets.connect(sim.ws_api_url) as ws,
    ):
        await subscribe_user(sim, ws)
        placed = await call(
            client,
            sim,
            "POST",
            "/api/v3/orderList/oco",
            symbol="BTCUSDT",
            side="SELL",
            quantity="0.01000",
            aboveType="LIMIT_MAKER",
            abovePrice="51000.00",
            belowType="STOP_LOSS",
            belowStopPrice="49000.00",
        )
        assert placed.status_code == 200, placed.text
        await sim.control.step(2)
        events = [f["event"] for f in await drain(ws)]
    reports = [e for e in events if e["e"] == "executionReport"]
    expired = [r for r in reports if r["x"] == "EXPIRED"]
    assert len(expired) == 1 and expired[0]["o"] == "LIMIT_MAKER" and expired[0]["eR"] == "OCO_TRIGGER"
    assert any(r["o"] == "STOP_LOSS" and r["X"] == "FILLED" for r in reports)
    statuses = [e["L"] for e in events if e["e"] == "listStatus"]
    assert statuses[0] == "EXECUTING" and statuses[-1] == "ALL_DONE"


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"quantity": "0.000011", "price": "40000.00"}, "LOT_SIZE"),
        ({"quantity": "0.01000", "price": "40000.001"}, "PRICE_FILTER"),
        ({"quantity": "0.00001", "price": "40000.00"}, "NOTIONAL"),
    ],
)
async def test_06_bad_order_is_refused_with_the_filter_and_creates_nothing(
    sim: SimulatorServer, client: httpx.AsyncClient, params: dict[str, str], name: str
) -> None:
    response = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", **params
    )
    assert (response.status_code, response.json()) == (400, {"code": -1013, "msg": f"Filter failure: {name}"})
    assert sim.control.open_orders(KEY) == [] and sim.sim.engine.orders == {}


async def test_07_429_then_418_with_retry_after(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    sim.control.set_weight_limit(50)
    statuses = [(await client.get("/api/v3/exchangeInfo")).status_code for _ in range(2)]
    assert statuses == [200, 200]
    limited = await client.get("/api/v3/exchangeInfo")
    assert limited.status_code == 429 and limited.json()["code"] == -1003
    assert int(limited.headers["Retry-After"]) > 0
    more = [await client.get("/api/v3/ping") for _ in range(4)]
    assert [r.status_code for r in more] == [429, 429, 429, 418]
    ban = int(more[-1].headers["Retry-After"])
    assert ban == sim.sim.config.ban_seconds
    assert (await client.get("/api/v3/ping")).status_code == 418  # no time passed: still banned
    await sim.control.step(ban // 60 + 1)
    assert (await client.get("/api/v3/ping")).status_code == 200


async def test_08_unfilled_order_count_limit(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    sim.control.set_order_limits(2)
    price = str((sim.control.price("BTCUSDT") - 1000).quantize(D("0.01")))
    for i in range(2):
        ok = await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price,
            newClientOrderId=f"p{i}",
        )
        assert ok.headers["X-MBX-ORDER-COUNT-10S"] == str(i + 1)
    refused = await call(
        client,
        sim,
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price=price,
    )
    assert refused.status_code == 429 and refused.json() == {
        "code": -1015,
        "msg": "Too many new orders; current limit is 2 orders per 10 SECOND.",
    }
    assert "Retry-After" in refused.headers and len(sim.control.open_orders(KEY)) == 2
    await sim.control.step(1)  # a new 10 s window
    again = await call(
        client,
        sim,
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price=price,
    )
    assert again.status_code == 200


async def test_09_clock_skew_gives_1021_and_a_resync_fixes_it(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    async def account(offset: int) -> httpx.Response:
        local = sim.sim.clock.replay_ms  # the "bot's" clock, on replay time
        query = signed(sim, {"recvWindow": 5000}, timestamp=local + offset)
        return await client.get(f"/api/v3/account?{query}", headers={"X-MBX-APIKEY": KEY})

    assert (await account(0)).status_code == 200
    for skew, message in ((-3000, "1000ms ahead"), (+6000, "outside of the recvWindow")):
        sim.control.set_skew_ms(skew)
        failed = await account(0)
        assert failed.json()["code"] == -1021 and message in failed.json()["msg"]
        offset = (await client.get("/api/v3/time")).json()["serverTime"] - sim.sim.clock.replay_ms
        assert (await account(offset)).status_code == 200


async def test_10_reply_lost_after_commit_or_before(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    sim.control.lose_next_response("POST", "/api/v3/order", mode="error_503", after_commit=True)
    lost = await call(
        client,
        sim,
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.00100",
        newClientOrderId="unk-1",
    )
    assert lost.status_code == 503
    found = await call(client, sim, "GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="unk-1")
    assert found.json()["status"] == "FILLED"  # the order exists: reconcile, don't resend
    sim.control.lose_next_response("POST", "/api/v3/order", mode="hang", after_commit=False, hang_seconds=2)
    query = signed(
        sim, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.00100", "newClientOrderId": "unk-2"}
    )
    with pytest.raises(httpx.ReadTimeout):
        await client.post(f"/api/v3/order?{query}", headers={"X-MBX-APIKEY": KEY}, timeout=0.3)
    missing = await call(client, sim, "GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="unk-2")
    assert missing.json()["code"] == -2013
    assert len(sim.control.orders(KEY, "BTCUSDT")) == 1


async def test_11_duplicate_client_order_id(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    price = str((sim.control.price("BTCUSDT") - 1000).quantize(D("0.01")))
    args: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.00100",
        "price": price,
        "newClientOrderId": "ict-dup",
    }
    assert (await call(client, sim, "POST", "/api/v3/order", **args)).status_code == 200
    again = await call(client, sim, "POST", "/api/v3/order", **args)
    assert again.json() == {"code": -2010, "msg": "Duplicate order sent."}
    assert len(sim.control.open_orders(KEY)) == 1


async def test_12_market_ws_drop_stall_and_server_shutdown(sim: SimulatorServer) -> None:
    async with websockets.connect(f"{sim.ws_url}/stream?streams=btcusdt@kline_1m") as ws:
        sim.control.stall_market()
        await sim.control.step(2)
        assert await drain(ws, 0.1) == []  # silent stall: open, quiet
        await ws.ping()
        sim.control.stall_market(False)
        sim.control.server_shutdown("market")
        frame = json.loads(await ws.recv())
        assert frame == {"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": sim.control.now()}}
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 2)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        assert sim.control.drop_ws("market") == 1
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:  # reconnect works, no replay
        await sim.control.step(1)
        assert len(await drain(ws)) == 5


async def test_13_user_stream_drop_with_fills_during_the_gap(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    price = sim.control.price("BTCUSDT")
    async with websockets.connect(sim.ws_api_url) as ws:
        await subscribe_user(sim, ws)
        await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="SELL",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=str(price - 2),
            newClientOrderId="gap",
        )
        await call(
            client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00200"
        )
        await drain(ws, 0.1)
        sim.control.drop_ws("user")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
    await call(client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00100")
    async with websockets.connect(sim.ws_api_url) as ws:
        await subscribe_user(sim, ws)
        assert await drain(ws, 0.2) == []  # nothing missed is replayed
    trades = (await call(client, sim, "GET", "/api/v3/myTrades", symbol="BTCUSDT")).json()
    account = (await call(client, sim, "GET", "/api/v3/account")).json()
    btc = next(b for b in account["balances"] if b["asset"] == "BTC")
    bought = sum(D(t["qty"]) - D(t["commission"]) for t in trades if t["isBuyer"])
    sold = sum(D(t["qty"]) for t in trades if not t["isBuyer"])
    assert D(btc["free"]) + D(btc["locked"]) == bought - sold


async def test_14_bot_crash_fills_while_down_then_adoption(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    price = sim.control.price("BTCUSDT")
    await call(client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01000")
    for i, offset in enumerate((D("0.02"), D("5000"))):  # one sell fills soon, one stays open
        await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="SELL",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=str(price + offset),
            newClientOrderId=f"ict-s{i}",
        )
    await sim.control.step(30)  # the bot is down
    orders = (await call(client, sim, "GET", "/api/v3/allOrders", symbol="BTCUSDT")).json()
    by_id = {o["clientOrderId"]: o["status"] for o in orders}
    assert by_id["ict-s0"] == "FILLED" and by_id["ict-s1"] == "NEW"
    open_now = (await call(client, sim, "GET", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    assert [o["clientOrderId"] for o in open_now] == ["ict-s1"]
    sim.control.assert_no_orphan_orders(KEY, "ict-")


async def test_15_exchange_restart_keeps_open_orders(sim: SimulatorServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        price = str((sim.control.price("BTCUSDT") - 1000).quantize(D("0.01")))
        await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price,
            newClientOrderId="ict-keep",
        )
    port = sim.port
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        restart = asyncio.create_task(sim.control.restart(downtime_s=0.5))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
        await asyncio.sleep(0.2)
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=sim.base_url) as down:
                await down.get("/api/v3/ping")
        await restart
    assert sim.port == port
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        open_now = (await call(client, sim, "GET", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    assert [o["clientOrderId"] for o in open_now] == ["ict-keep"]


async def test_16_halt_and_cancel_only(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    price = str((sim.control.price("BTCUSDT") - 1000).quantize(D("0.01")))
    await call(
        client,
        sim,
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price=price,
        newClientOrderId="ict-h",
    )
    sim.control.set_symbol_status("BTCUSDT", "CANCEL_ONLY")
    info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
    assert info["symbols"][0]["status"] == "CANCEL_ONLY"
    refused = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00100"
    )
    assert refused.json() == {"code": -2010, "msg": "Market is closed."}
    canceled = await call(client, sim, "DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="ict-h")
    assert canceled.json()["status"] == "CANCELED"


async def test_17_insufficient_balance(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    response = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="5.00000"
    )
    assert (response.status_code, response.json()) == (
        400,
        {"code": -2010, "msg": "Account has insufficient balance for requested action."},
    )
    sim.control.reject_next_order(-2010, "Order would immediately match and take.")
    forced = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00100"
    )
    assert forced.json()["msg"] == "Order would immediately match and take."
    assert sim.control.orders(KEY, "BTCUSDT") == []
