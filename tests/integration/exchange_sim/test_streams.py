"""Market streams (raw, combined, live SUBSCRIBE) and the WS-API user data stream, over real sockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from ictbot.exchange_sim import SimulatorServer
from ictbot.exchange_sim.auth import hmac_signature, ws_api_payload
from tests.integration.exchange_sim.conftest import KEY, SECRET, call
from tests.integration.exchange_sim.test_rest_payloads import fixture, same_shape


async def drain(ws: Any, timeout: float = 0.3) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
        except TimeoutError:
            return frames


async def test_raw_kline_stream_closes_each_candle_once(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        await sim.control.step(3)
        frames = await drain(ws)
    closed = [f for f in frames if f["k"]["x"]]
    assert len(closed) == 3 and len(frames) == 3 * 5  # 4 updates + the close per candle
    same_shape(frames[0], fixture("spot/ws/kline.docs.json"))
    same_shape(closed[0], fixture("spot/ws/combined_kline_1m_open_nknusdt_20211012.real.json"))
    rest = (await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "limit": 3})).json()
    assert [[c["k"]["t"], c["k"]["o"], c["k"]["h"], c["k"]["l"], c["k"]["c"], c["k"]["v"]] for c in closed] == [
        row[:6] for row in rest
    ]
    assert all(c["E"] == c["k"]["T"] + 1 for c in closed)  # emitted at the close boundary


async def test_combined_stream_live_subscribe_and_higher_timeframe(sim: SimulatorServer) -> None:
    async with websockets.connect(f"{sim.ws_url}/stream?streams=btcusdt@aggTrade") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@kline_5m"], "id": 1}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 1}
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": "x"}))
        assert json.loads(await ws.recv()) == {"result": ["btcusdt@aggTrade", "ethusdt@kline_5m"], "id": "x"}
        await sim.control.step(5)
        frames = await drain(ws)
        await ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 2}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 2}
        await sim.control.step(1)
        after = await drain(ws)
    streams = {f["stream"] for f in frames}
    assert streams == {"btcusdt@aggTrade", "ethusdt@kline_5m"}
    same_shape(
        next(f for f in frames if f["stream"] == "btcusdt@aggTrade")["data"], fixture("spot/ws/agg_trade.docs.json")
    )
    closed_5m = [f for f in frames if f["stream"] == "ethusdt@kline_5m" and f["data"]["k"]["x"]]
    assert len(closed_5m) <= 1
    assert {f["stream"] for f in after} == {"ethusdt@kline_5m"}


async def test_dropped_closed_kline_is_not_replayed_but_rest_has_it(
    sim: SimulatorServer, client: httpx.AsyncClient
) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        sim.control.drop_next_events("kline_closed")
        await sim.control.step(2)
        closed = [f for f in await drain(ws) if f["k"]["x"]]
    assert len(closed) == 1
    rest = (await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "limit": 2})).json()
    assert rest[0][0] == closed[0]["k"]["t"] - 60_000  # the lost candle is there for the backfill


async def subscribe_user(sim: SimulatorServer, ws: Any, key: str = KEY, request_id: str = "s1") -> dict[str, Any]:
    params: dict[str, Any] = {"apiKey": key, "timestamp": sim.control.now()}
    params["signature"] = hmac_signature(SECRET, ws_api_payload(params))
    await ws.send(json.dumps({"id": request_id, "method": "userDataStream.subscribe.signature", "params": params}))
    return dict(json.loads(await ws.recv()))


async def test_user_data_stream_delivers_execution_reports(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    async with websockets.connect(sim.ws_api_url) as ws:
        reply = await subscribe_user(sim, ws)
        expected = fixture("spot/ws/wsapi_userdatastream_subscribe_signature_response.docs.json")
        assert {k: reply[k] for k in ("status", "result")} == {k: expected[k] for k in ("status", "result")}
        assert reply["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
        await call(
            client,
            sim,
            "POST",
            "/api/v3/order",
            symbol="BTCUSDT",
            side="BUY",
            type="MARKET",
            quantity="0.01000",
            newClientOrderId="m-1",
        )
        frames = await drain(ws)
    events = [f["event"] for f in frames]
    assert all(f["subscriptionId"] == 0 for f in frames)
    assert [(e["e"], e.get("x")) for e in events] == [
        ("executionReport", "NEW"),
        ("executionReport", "TRADE"),
        ("outboundAccountPosition", None),
    ]
    same_shape(events[0], fixture("spot/ws/execution_report_new.docs.json")["event"])
    same_shape(events[1], fixture("spot/ws/execution_report_trade_filled_binanceus_20251001.real.json"))
    same_shape(events[2], fixture("spot/ws/outbound_account_position.docs.json")["event"])
    assert events[1]["X"] == "FILLED" and events[1]["c"] == "m-1" and events[1]["N"] == "BTC"


async def test_ws_api_errors_and_unsubscribe(sim: SimulatorServer) -> None:
    async with websockets.connect(sim.ws_api_url) as ws:
        sim.control.set_skew_ms(10_000)
        params = {"apiKey": KEY, "timestamp": sim.control.now() - 20_000, "signature": "0" * 64}
        await ws.send(json.dumps({"id": 7, "method": "userDataStream.subscribe.signature", "params": params}))
        reply = json.loads(await ws.recv())
        assert reply["status"] == 400 and reply["error"]["code"] == -1021 and reply["id"] == 7
        sim.control.set_skew_ms(0)
        assert (await subscribe_user(sim, ws))["result"] == {"subscriptionId": 0}
        await ws.send(json.dumps({"id": 8, "method": "session.subscriptions"}))
        assert json.loads(await ws.recv())["result"] == [{"subscriptionId": 0}]
        await ws.send(json.dumps({"id": 9, "method": "userDataStream.unsubscribe"}))
        frames = [json.loads(await ws.recv()) for _ in range(2)]
    assert frames[0]["event"]["e"] == "eventStreamTerminated"
    assert frames[1]["status"] == 200 and frames[1]["id"] == 9


async def test_ws_api_order_place_and_status(sim: SimulatorServer) -> None:
    async with websockets.connect(sim.ws_api_url) as ws:
        await subscribe_user(sim, ws)
        params: dict[str, Any] = {
            "apiKey": KEY,
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "quantity": "0.00100",
            "newClientOrderId": "ws-1",
            "timestamp": sim.control.now(),
        }
        params["signature"] = hmac_signature(SECRET, ws_api_payload(params))
        await ws.send(json.dumps({"id": "p1", "method": "order.place", "params": params}))
        frames = await drain(ws)
    reply = next(f for f in frames if f.get("id") == "p1")
    assert reply["status"] == 200 and reply["result"]["status"] == "FILLED"
    ws_docs = fixture("spot/ws/wsapi_order_place_full_response.docs.json")["result"]
    assert set(ws_docs) <= set(reply["result"])  # the WS-API docs example predates selfTradePreventionMode
    same_shape(reply["result"], fixture("spot/rest/new_order_full.docs.json"))
    assert [f["event"]["x"] for f in frames if "event" in f and f["event"]["e"] == "executionReport"] == [
        "NEW",
        "TRADE",
    ]


async def test_market_stream_message_rate_limit_disconnects() -> None:
    from tests.integration.exchange_sim.conftest import small_config

    async with SimulatorServer(small_config(ws_message_rate_limit=5)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws") as ws:
            for i in range(7):
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            replies = []
            closed = None
            try:
                while True:
                    replies.append(json.loads(await asyncio.wait_for(ws.recv(), 2)))
            except websockets.ConnectionClosed as error:
                closed = error
        assert len(replies) == 5 and closed is not None and closed.rcvd is not None and closed.rcvd.code == 1008
