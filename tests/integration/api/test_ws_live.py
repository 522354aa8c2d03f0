"""The WebSocket feed over real TCP (uvicorn on 127.0.0.1): many clients, one stalled, resume.

Each test runs twice: with the direct path (pre-framed bytes written to uvicorn's transport) and
with it disabled (every message through the ASGI ``send``), so both keep their guarantees."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from ictbot.api import ApiSettings, Broadcaster, create_app, ws_direct_path
from ictbot.api.auth import TokenAuthority
from tests.unit.api.fakes import FakeFacade

TOKEN = "live-read-token-0123456789"
CLIENTS = 40
ORDERS = 300


@pytest.fixture(params=["direct", "asgi"])
async def server(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, Broadcaster, bool]]:
    if request.param == "asgi":
        monkeypatch.setattr(ws_direct_path, "frame_sink", lambda websocket: None)
    settings = ApiSettings(ws_queue_size=64, ws_ring_size=1000, ws_heartbeat_s=60)
    app = create_app(FakeFacade(), settings, tokens=TokenAuthority.from_tokens(TOKEN, None))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # permessage-deflate stays available: a client that negotiates it must get the ASGI path
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve(sockets=[sock]))
    while not srv.started:
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/ws", app.state.broadcaster, request.param == "direct"
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


async def open_client(
    url: str, types: list[str], since_seq: int | None = None, rcvbuf: int | None = None, deflate: bool = False
) -> ClientConnection:
    kwargs: dict[str, Any] = {}
    if rcvbuf is not None:  # a tiny receive window makes a non-reading client stall the server quickly
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.connect(("127.0.0.1", int(url.split(":")[2].split("/")[0])))
        kwargs["sock"] = raw
    compression = "deflate" if deflate else None
    ws = await connect(f"{url}?token={TOKEN}", compression=compression, proxy=None, max_queue=4, **kwargs)
    assert json.loads(await ws.recv())["type"] == "welcome"
    request: dict[str, Any] = {"action": "subscribe", "types": types, "id": "s"}
    if since_seq is not None:
        request["since_seq"] = since_seq
    await ws.send(json.dumps(request))
    return ws


async def collect_orders(ws: ClientConnection, count: int) -> list[int]:
    seqs: list[int] = []
    while len(seqs) < count:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        if message["type"] == "order":
            seqs.append(message["seq"])
    return seqs


async def test_many_clients_and_a_stalled_one(server: tuple[str, Broadcaster, bool]) -> None:
    url, feed, direct = server
    healthy = [await open_client(url, ["order"]) for _ in range(CLIENTS)]
    stalled = await open_client(url, ["order", "candle"], rcvbuf=4096)
    await asyncio.sleep(0.1)  # let the server process the subscriptions
    assert len(feed.clients) == CLIENTS + 1
    assert feed.stats()["direct"] == (CLIENTS + 1 if direct else 0)
    readers = [asyncio.create_task(collect_orders(ws, ORDERS)) for ws in healthy]
    blob = os.urandom(32 * 1024).hex()  # 64 KB, incompressible: only the stalled client gets these
    order_seqs = []
    for i in range(ORDERS):
        order_seqs.append(feed.publish("order", {"i": i}))
        feed.publish("candle", {"blob": blob})
        await asyncio.sleep(0)
    results = await asyncio.wait_for(asyncio.gather(*readers), timeout=60)
    for seqs in results:
        assert seqs == order_seqs  # everything, in order, despite the stalled peer
    assert feed.evicted == 1
    assert len(feed.clients) == CLIENTS
    for ws in healthy:
        await ws.close()
    # the stalled peer never completes the close handshake the server started: drop its TCP
    # connection so the server's shutdown does not trip over a half-closed socket
    stalled.transport.abort()
    await asyncio.sleep(0.2)


async def test_reconnect_and_resume_over_tcp(server: tuple[str, Broadcaster, bool]) -> None:
    url, feed, direct = server
    ws = await open_client(url, ["alert"])
    await asyncio.sleep(0.05)
    assert feed.stats()["direct"] == int(direct)
    first = feed.publish("alert", {"n": 1})
    message = json.loads(await ws.recv())
    message = message if message["type"] == "alert" else json.loads(await ws.recv())
    assert message["seq"] == first
    await ws.close()
    missed = [feed.publish("alert", {"n": n}) for n in (2, 3)]
    again = await open_client(url, ["alert"], since_seq=first)
    replayed: list[int] = []
    while len(replayed) < 2:
        message = json.loads(await asyncio.wait_for(again.recv(), timeout=5))
        if message["type"] == "alert":
            replayed.append(message["seq"])
    assert replayed == missed
    await again.close()


async def test_direct_path_is_taken_unless_compression_is_negotiated(server: tuple[str, Broadcaster, bool]) -> None:
    url, feed, direct = server
    plain = await open_client(url, ["signal"])
    compressed = await open_client(url, ["signal"], deflate=True)
    await asyncio.sleep(0.05)
    sinks = [client.sink is not None for client in feed.clients]
    assert sinks == [direct, False]  # deflated frames differ per client: never shared bytes
    text = "é" * 300  # non-ASCII escaped by JSON, 16-bit length header
    seq = feed.publish("signal", {"text": text})
    for ws in (plain, compressed):
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        while message["type"] != "signal":
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        assert (message["seq"], message["data"]["text"]) == (seq, text)
        await ws.close()


async def test_first_message_auth_and_commands_over_tcp(server: tuple[str, Broadcaster, bool]) -> None:
    url, feed, direct = server
    async with connect(url, compression=None, proxy=None) as ws:
        await ws.send(json.dumps({"action": "auth", "token": TOKEN}))
        assert json.loads(await ws.recv())["data"]["scope"] == "trade"
        assert feed.stats()["direct"] == int(direct)
        await ws.send(json.dumps({"action": "command", "id": "h", "command": "halt", "args": {"reason": "x"}}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        assert (reply["type"], reply["id"], reply["data"]["state"]) == ("ack", "h", "HALTED")
        await ws.send(json.dumps({"action": "ping", "id": "p"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), timeout=5))["type"] == "pong"
