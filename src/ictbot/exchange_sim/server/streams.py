"""WebSocket endpoints: spot market streams (``/ws``, ``/stream``), USD-M streams (``/fstream/...``)
with listenKey user data, and the spot WebSocket API (``/ws-api/v3``) with user-data subscriptions.

Pings: uvicorn sends protocol pings every ``ping_interval_s`` and closes a silent peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from ictbot.domain.market import Market
from ictbot.exchange_sim.auth import ws_api_payload
from ictbot.exchange_sim.errors import SimError, mandatory
from ictbot.exchange_sim.server import spot_rest
from ictbot.exchange_sim.server.context import Ctx
from ictbot.exchange_sim.server.hub import CLOSE, Connection
from ictbot.exchange_sim.server.params import Params

if TYPE_CHECKING:
    from ictbot.exchange_sim.core import Simulator

MAX_STREAMS = 1024


async def _sender(websocket: WebSocket, conn: Connection) -> None:
    while True:
        item = await conn.queue.get()
        try:
            if item is CLOSE:
                with contextlib.suppress(Exception):
                    await websocket.close(conn.close_code)
                return
            await websocket.send_text(str(item))
        except Exception:  # the peer went away: keep draining so flush() never blocks
            pass
        finally:
            conn.queue.task_done()


def _drain(conn: Connection) -> None:
    while not conn.queue.empty():
        conn.queue.get_nowait()
        conn.queue.task_done()


async def _serve(sim: Simulator, websocket: WebSocket, conn: Connection, on_text: Any) -> None:
    sim.hub.add(conn)
    sender = asyncio.create_task(_sender(websocket, conn))
    receiver: asyncio.Future[str] | None = None
    try:
        while True:
            receiver = asyncio.ensure_future(websocket.receive_text())
            done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
            if receiver not in done:
                break  # we closed the socket (fault, shutdown)
            text = receiver.result()
            receiver = None
            await on_text(text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sim.hub.remove(conn)
        if receiver is not None:
            if receiver.done():
                receiver.exception()  # retrieved: a disconnect after our close is expected
            else:
                receiver.cancel()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        _drain(conn)


def _split(streams: str | None) -> list[str]:
    return [s for s in (streams or "").split("/") if s]


async def market_stream(sim: Simulator, websocket: WebSocket, kind: str, combined: bool, streams: list[str]) -> None:
    await websocket.accept()
    conn = Connection(kind, combined=combined)
    sim.hub.subscribe(conn, streams[:MAX_STREAMS])

    limit = sim.config.ws_message_rate_limit
    recent: list[float] = []

    async def on_text(text: str) -> None:
        if limit > 0:  # Binance disconnects a market-stream connection sending more than 5 messages/s
            now = time.monotonic()
            recent[:] = [t for t in recent if now - t < 1.0] + [now]
            if len(recent) > limit:
                conn.close(1008)
                return
        try:
            message = json.loads(text)
            request_id = message.get("id")
            method = message.get("method")
            params = message.get("params") or []
        except (json.JSONDecodeError, AttributeError):
            conn.send(json.dumps({"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}))
            return
        if method == "SUBSCRIBE":
            if len(conn.streams) + len(params) > MAX_STREAMS:
                conn.send(json.dumps({"code": 2, "msg": "Invalid request: too many streams", "id": request_id}))
                return
            sim.hub.subscribe(conn, [str(p) for p in params])
            conn.send(json.dumps({"result": None, "id": request_id}))
        elif method == "UNSUBSCRIBE":
            sim.hub.unsubscribe(conn, [str(p) for p in params])
            conn.send(json.dumps({"result": None, "id": request_id}))
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send(json.dumps({"result": sorted(conn.streams), "id": request_id}))
        elif method == "SET_PROPERTY" and len(params) == 2 and params[0] == "combined":
            conn.combined = bool(params[1])
            conn.send(json.dumps({"result": None, "id": request_id}))
        elif method == "GET_PROPERTY" and params == ["combined"]:
            conn.send(json.dumps({"result": conn.combined, "id": request_id}))
        else:
            conn.send(json.dumps({"code": 2, "msg": f"Invalid request: unknown method {method!r}", "id": request_id}))

    await _serve(sim, websocket, conn, on_text)


async def futures_user_stream(sim: Simulator, websocket: WebSocket, keys: list[str], combined: bool) -> None:
    await websocket.accept()
    known = [k for k in keys if k in sim.listen_keys]
    if not known:
        await websocket.close(1008)
        return
    conn = Connection("futures-user", combined=combined, listen_keys=set(known))

    async def on_text(text: str) -> None:  # user streams accept no requests; ignore pongs/noise
        return

    await _serve(sim, websocket, conn, on_text)


# ---- WebSocket API ------------------------------------------------------------------------------------

_WS_API_WEIGHTS = {"ping": 1, "time": 1, "exchangeInfo": 20, "order.place": 1, "order.cancel": 1,
                   "order.status": 4, "openOrders.status": 6, "account.status": 20}
_WS_API_ORDERS = {
    "order.place": spot_rest.new_order, "order.cancel": spot_rest.cancel_order, "order.status": spot_rest.query_order,
    "openOrders.status": spot_rest.open_orders, "account.status": spot_rest.account,
}


def _rate_limits(sim: Simulator, client: str) -> list[dict[str, Any]]:
    return [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": sim.limiter.weight_limit, "count": sim.limiter.used_weight(client, sim.now())}]


def _signed(sim: Simulator, params: dict[str, Any]) -> str:
    account = sim.auth.api_key(params.get("apiKey"))
    signature = params.get("signature")
    sim.auth.signature(account, ws_api_payload(params), str(signature) if signature is not None else None)
    timestamp = params.get("timestamp")
    recv_window = params.get("recvWindow")
    sim.auth.timestamp(None if timestamp is None else str(timestamp),
                       None if recv_window is None else str(recv_window), sim.now(), sim.wall_ms())
    return account


async def _ws_api_call(sim: Simulator, conn: Connection, method: str, params: dict[str, Any]) -> Any:
    now = sim.now()
    if method == "ping":
        return {}
    if method == "time":
        return {"serverTime": now}
    if method == "exchangeInfo":
        return await spot_rest.exchange_info(Ctx(sim, Params.from_dict(params), "", now, Market.SPOT))
    if method == "userDataStream.subscribe.signature":
        if "apiKey" not in params:
            raise mandatory("apiKey")
        account = _signed(sim, params)
        if account in conn.subscriptions.values():
            raise SimError(-2035, "User Data Stream subscription already active.")
        sub_id = conn.next_subscription_id
        conn.next_subscription_id += 1
        conn.subscriptions[sub_id] = account
        return {"subscriptionId": sub_id}
    if method == "userDataStream.unsubscribe":
        wanted = params.get("subscriptionId")
        ids = [int(wanted)] if wanted is not None else list(conn.subscriptions)
        if wanted is not None and int(wanted) not in conn.subscriptions:
            raise SimError(-2036, "Invalid subscription id.")
        for sub_id in ids:
            del conn.subscriptions[sub_id]
            conn.send(json.dumps({"subscriptionId": sub_id,
                                  "event": {"e": "eventStreamTerminated", "E": now}}, separators=(",", ":")))
        return {}
    if method == "session.subscriptions":
        return [{"subscriptionId": sub_id} for sub_id in sorted(conn.subscriptions)]
    if method == "session.status":
        return {"apiKey": None, "authorizedSince": None, "connectedSince": now, "returnRateLimits": True,
                "serverTime": now, "userDataStream": bool(conn.subscriptions)}
    handler = _WS_API_ORDERS.get(method)
    if handler is None:
        raise SimError(-1100, f"Unknown method '{method}'.") if method else mandatory("method")
    account = _signed(sim, params)
    if method == "order.place":
        rejection = sim.faults.take_order_rejection()
        if rejection is not None:
            raise rejection
        sim.limiter.check_order(account, now)
        sim.limiter.count_order(account, now)
    return await handler(Ctx(sim, Params.from_dict(params), account, now, Market.SPOT))


async def ws_api(sim: Simulator, websocket: WebSocket, client: str) -> None:
    await websocket.accept()
    conn = Connection("ws-api")
    sim.limiter.charge(client, 2, sim.now())

    async def on_text(text: str) -> None:
        request_id: Any = None
        try:
            message = json.loads(text)
            request_id = message.get("id")
            method = str(message.get("method") or "")
            params = message.get("params") or {}
            sim.limiter.charge(client, _WS_API_WEIGHTS.get(method, 2), sim.now(),
                               forced=sim.faults.take_forced_rate_limit())
            result = await _ws_api_call(sim, conn, method, params)
            reply: dict[str, Any] = {"id": request_id, "status": 200, "result": result}
        except SimError as error:
            body: dict[str, Any] = error.body()
            if error.retry_after is not None:
                retry = error.retry_after
                body["data"] = {"retryAfter": sim.now() + retry * 1000 if error.http_status == 418 else retry}
            reply = {"id": request_id, "status": error.http_status, "error": body}
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
            reply = {"id": request_id, "status": 400, "error": {"code": -1102, "msg": "Malformed request."}}
        reply["rateLimits"] = _rate_limits(sim, client)
        conn.send(json.dumps(reply, separators=(",", ":")))

    await _serve(sim, websocket, conn, on_text)
