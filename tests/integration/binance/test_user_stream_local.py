"""Spot user-data stream over a local WebSocket API server that verifies the subscription signature,
pushes execution reports and drops the connection mid-stream."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

from websockets.asyncio.server import ServerConnection

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.signing import Credentials, ws_api_payload
from ictbot.adapters.binance.timesync import ServerTime
from ictbot.adapters.binance.user_stream import SpotUserDataStream
from ictbot.adapters.binance.wsconn import Backoff
from ictbot.domain.errors import AuthenticationError
from ictbot.domain.order import OrderStatus
from tests.integration.binance.localserver import WsServer

KEY = "WsApiKey0123456789"
SECRET = "WsSecret-0123456789abcdef"


def execution(cid: str, x: str, status: str, z: str, trade_id: int = -1, last: str = "0") -> dict[str, Any]:
    return {
        "e": "executionReport",
        "E": 1,
        "s": "BTCUSDT",
        "c": cid,
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "1",
        "p": "100",
        "P": "0",
        "F": "0",
        "g": -1,
        "C": "",
        "x": x,
        "X": status,
        "r": "NONE",
        "i": 7,
        "l": last,
        "z": z,
        "L": "100",
        "n": "0",
        "N": None,
        "T": 2,
        "t": trade_id,
        "m": False,
        "Z": "0",
    }


def valid_subscription(params: dict[str, Any]) -> bool:
    payload = ws_api_payload({k: v for k, v in params.items() if k != "signature"})
    expected = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return params.get("apiKey") == KEY and hmac.compare_digest(expected, str(params.get("signature")))


async def test_reports_flow_across_a_dropped_connection_and_resubscription_triggers_reconcile() -> None:
    script = [
        [execution("ict-a", "NEW", "NEW", "0"), execution("ict-a", "TRADE", "PARTIALLY_FILLED", "0.4", 11, "0.4")],
        [
            {"e": "outboundAccountPosition", "E": 3, "u": 3, "B": []},
            execution("ict-a", "TRADE", "FILLED", "1", 12, "0.6"),
        ],
    ]

    async def handler(ws: ServerConnection) -> None:
        request = json.loads(await ws.recv())
        assert request["method"] == "userDataStream.subscribe.signature"
        if not valid_subscription(request["params"]):
            await ws.send(
                json.dumps(
                    {
                        "id": request["id"],
                        "status": 400,
                        "error": {"code": -1022, "msg": "Signature for this request is not valid."},
                    }
                )
            )
            return
        await ws.send(json.dumps({"id": request["id"], "status": 200, "result": {"subscriptionId": 0}}))
        events = script.pop(0) if script else []
        for event in events:
            await ws.send(json.dumps({"subscriptionId": 0, "event": event}))
        if script:  # first connection: drop abruptly mid-stream
            ws.transport.abort()
            return
        await ws.wait_closed()

    async with WsServer(handler) as server:
        endpoints = BinanceEndpoints.local(server.port)
        stream = SpotUserDataStream(
            endpoints, Credentials.hmac(KEY, SECRET), ServerTime(), backoff=Backoff(initial_s=0.01, maximum_s=0.05)
        )
        reconciles: list[int] = []
        stream.add_resubscribe_listener(lambda: reconciles.append(stream.subscriptions))
        reports = []
        async with asyncio.timeout(10):
            async for report in stream.updates():
                reports.append(report)
                if len(reports) == 3:
                    break
        await stream.stop()
    assert [r.status for r in reports] == [OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert [f.trade_id for r in reports for f in r.fills] == ["11", "12"]
    assert reconciles == [1, 2]  # reconcile after the first subscription and after the reconnect
    assert server.connections == 2 and "/ws-api/v3" in server.paths[0]
    assert SECRET not in repr(stream)


async def test_rejected_signature_stops_the_stream_with_an_auth_error() -> None:
    async def handler(ws: ServerConnection) -> None:
        request = json.loads(await ws.recv())
        await ws.send(
            json.dumps(
                {
                    "id": request["id"],
                    "status": 401,
                    "error": {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
                }
            )
        )
        await ws.wait_closed()

    async with WsServer(handler) as server:
        stream = SpotUserDataStream(
            BinanceEndpoints.local(server.port),
            Credentials.hmac(KEY, "wrong-secret-xyz"),
            ServerTime(),
            backoff=Backoff(initial_s=0.01),
        )
        raised: Exception | None = None
        try:
            async with asyncio.timeout(5):
                async for _ in stream.updates():
                    pass
        except AuthenticationError as exc:
            raised = exc
        await stream.stop()
    assert isinstance(raised, AuthenticationError) and "wrong-secret" not in str(raised)


async def test_server_shutdown_event_rolls_the_connection() -> None:
    connections = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        request = json.loads(await ws.recv())
        await ws.send(json.dumps({"id": request["id"], "status": 200, "result": {"subscriptionId": 0}}))
        if connections == 1:
            await ws.send(json.dumps({"event": {"e": "serverShutdown", "E": 1}}))
            await ws.wait_closed()
            return
        await ws.send(json.dumps({"subscriptionId": 0, "event": execution("ict-z", "NEW", "NEW", "0")}))
        await ws.wait_closed()

    async with WsServer(handler) as server:
        stream = SpotUserDataStream(
            BinanceEndpoints.local(server.port),
            Credentials.hmac(KEY, SECRET),
            ServerTime(),
            backoff=Backoff(initial_s=5.0),
        )  # a roll must not wait for the backoff
        async with asyncio.timeout(4):
            async for report in stream.updates():
                assert report.client_order_id == "ict-z"
                break
        await stream.stop()
    assert connections == 2


async def test_subscription_rejected_for_timestamp_resyncs_and_retries() -> None:
    attempts: list[int] = []
    resyncs = 0

    async def handler(ws: ServerConnection) -> None:
        while True:
            request = json.loads(await ws.recv())
            attempts.append(request["params"]["timestamp"])
            if len(attempts) == 1:
                await ws.send(
                    json.dumps(
                        {
                            "id": request["id"],
                            "status": 400,
                            "error": {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
                        }
                    )
                )
                continue
            await ws.send(json.dumps({"id": request["id"], "status": 200, "result": {"subscriptionId": 3}}))
            await ws.send(json.dumps({"subscriptionId": 3, "event": execution("ict-t", "NEW", "NEW", "0")}))
            await ws.wait_closed()
            return

    server_time = ServerTime()

    async def resync() -> None:
        nonlocal resyncs
        resyncs += 1
        server_time.offset_ms += 60_000  # what a fresh /time measurement would give

    async with WsServer(handler) as server:
        stream = SpotUserDataStream(
            BinanceEndpoints.local(server.port), Credentials.hmac(KEY, SECRET), server_time, resync_time=resync
        )
        async with asyncio.timeout(5):
            async for report in stream.updates():
                assert report.client_order_id == "ict-t"
                break
        await stream.stop()
    assert resyncs == 1 and len(attempts) == 2 and attempts[1] - attempts[0] >= 60_000
    assert stream.subscription_id == 3 and server.connections == 1
