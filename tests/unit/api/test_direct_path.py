"""The pre-framed direct path (``ws_direct_path``): frame bytes, flow control, ordering, slow and closed peers."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocket
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from ictbot.api import ws_direct_path
from ictbot.api.auth import Scope
from ictbot.api.broadcaster import CLOSE_SLOW_CONSUMER, Broadcaster
from ictbot.api.ws_direct_path import SansIOSink, frame_sink, text_frame
from tests.unit.api.conftest import READ_TOKEN
from tests.unit.api.test_broadcaster import FakeConnection, settle


def parse_server_frames(data: bytes) -> list[Frame]:
    """What a conforming client (the ``websockets`` library) makes of bytes sent by a server."""
    client = ClientProtocol(parse_uri("ws://127.0.0.1/ws"), state=State.OPEN, max_size=None)
    client.receive_data(data)
    assert client.parser_exc is None
    return [event for event in client.events_received() if isinstance(event, Frame)]


UPGRADE_BROKE = "a dependency upgrade broke the WebSocket direct path (src/ictbot/api/ws_direct_path.py): "


def test_the_private_hooks_of_the_direct_path_still_exist() -> None:
    """At run time a missing hook only makes ``frame_sink`` return None (the slower ASGI path, silently);
    this test is where such an upgrade must fail instead."""
    assert ws_direct_path._SansIO is not None, UPGRADE_BROKE + "uvicorn's WebSocketsSansIOProtocol is gone"
    assert ws_direct_path._State is not None, UPGRADE_BROKE + "websockets.protocol.State is gone"
    init_source = inspect.getsource(ws_direct_path._SansIO.__init__)
    missing = [name for name in ws_direct_path._REQUIRED
               if f"self.{name} " not in init_source and f"self.{name}:" not in init_source
               and not hasattr(ws_direct_path._SansIO, name)]
    assert not missing, UPGRADE_BROKE + f"WebSocketsSansIOProtocol no longer sets {missing}"

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        return None

    socket = WebSocket({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert getattr(socket, "_receive", None) is receive, UPGRADE_BROKE + "WebSocket no longer keeps _receive"


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_text_frame_is_what_a_client_expects(size: int) -> None:
    payload = ("x" * size).encode()
    frame = text_frame(payload)
    frames = parse_server_frames(frame + text_frame(b'{"a":1}'))  # and the next frame starts right after
    assert [(f.opcode, f.fin, bytes(f.data)) for f in frames] == [
        (Opcode.TEXT, True, payload), (Opcode.TEXT, True, b'{"a":1}')]
    assert frame[1] & 0x80 == 0  # server frames are never masked


class FakeSink:
    """A transport stand-in: records frames; ``pause()`` mimics a full write buffer."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.open = True
        self.aborted = False
        self._writable = asyncio.Event()
        self._writable.set()

    def is_open(self) -> bool:
        return self.open

    def try_write(self, frame: bytes) -> bool:
        if not (self.open and self._writable.is_set()):
            return False
        self.frames.append(frame)
        return True

    async def wait_writable(self) -> None:
        await self._writable.wait()

    def buffered(self) -> int:
        return 0 if self._writable.is_set() else 65536

    def abort(self) -> None:
        self.aborted = True

    def pause(self) -> None:
        self._writable.clear()

    def resume(self) -> None:
        self._writable.set()

    def close(self) -> None:
        self.open = False
        self._writable.set()  # as uvicorn's connection_lost does

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(bytes(f.data)) for f in parse_server_frames(b"".join(self.frames))]

    def data_seqs(self) -> list[int]:
        return [m["seq"] for m in self.messages() if "seq" in m]


def direct_client(feed: Broadcaster, types: list[str]) -> tuple[FakeConnection, FakeSink]:
    conn, sink = FakeConnection(), FakeSink()
    feed.subscribe(feed.register(conn, Scope.READ, sink), types)
    return conn, sink


async def test_direct_and_asgi_clients_get_the_same_messages() -> None:
    feed = Broadcaster()
    conn, sink = direct_client(feed, ["order"])
    asgi = FakeConnection()
    feed.subscribe(feed.register(asgi, Scope.READ), ["order"])
    for i in range(5):
        feed.publish("order", {"i": i})
    await settle()
    feed.reply(feed.clients[0], {"type": "pong", "id": "p"})
    assert sink.messages()[:5] == asgi.received
    assert sink.messages()[5]["type"] == "pong"
    assert conn.received == []  # nothing went through send_text
    assert feed.stats()["direct"] == 1


async def test_a_paused_transport_queues_in_order_and_drains_when_writable() -> None:
    feed = Broadcaster(queue_size=16)
    _, slow = direct_client(feed, ["order"])
    _, fast = direct_client(feed, ["order"])
    feed.publish("order", {})
    await settle()
    slow.pause()
    for _ in range(10):
        feed.publish("order", {})
    await settle()
    assert fast.data_seqs() == list(range(1, 12))  # the paused peer delays nobody
    assert slow.data_seqs() == [1]
    assert feed.stats()["queued"] == 10
    assert feed.stats()["buffered_bytes"] == 65536
    slow.resume()
    await settle()
    assert slow.data_seqs() == list(range(1, 12))
    feed.publish("order", {})  # idle again: straight to the transport
    await settle()
    assert slow.data_seqs() == list(range(1, 13))
    assert feed.evicted == 0


async def test_a_peer_that_stays_paused_is_dropped_and_aborted() -> None:
    feed = Broadcaster(queue_size=8)
    feed.close_timeout_s = 0.01
    closing: list[int] = []

    class NoCloseHandshake(FakeConnection):
        async def close(self, code: int, reason: str) -> None:
            closing.append(code)
            await asyncio.Event().wait()  # the peer never answers

    stalled = FakeSink()
    feed.subscribe(feed.register(NoCloseHandshake(), Scope.READ, stalled), ["order"])
    stalled.pause()
    _, healthy = direct_client(feed, ["order"])
    for _ in range(20):
        feed.publish("order", {})
    await settle()
    assert healthy.data_seqs() == list(range(1, 21))
    assert feed.evicted == 1 and len(feed.clients) == 1
    for _ in range(50):
        if stalled.aborted:
            break
        await asyncio.sleep(0.01)
    assert stalled.aborted
    assert closing == [CLOSE_SLOW_CONSUMER]


async def test_nothing_is_written_once_the_connection_closed() -> None:
    feed = Broadcaster()
    _, sink = direct_client(feed, ["order"])
    feed.publish("order", {})
    await settle()
    sink.pause()
    feed.publish("order", {})  # queued behind the full buffer
    await settle()
    sink.close()  # the peer went away while paused
    feed.publish("order", {})
    await settle()
    assert sink.data_seqs() == [1]  # FakeSink.write asserts no frame follows the close
    assert feed.clients == []


async def test_heartbeat_is_serialised_once_for_all_clients() -> None:
    feed = Broadcaster(heartbeat_s=0.01)
    sinks = [direct_client(feed, ["order"])[1] for _ in range(3)]
    await feed.start()
    for _ in range(100):
        await asyncio.sleep(0.005)
        if all(sink.frames for sink in sinks):
            break
    await feed.stop()
    first = [sink.frames[0] for sink in sinks]
    assert first[0] is first[1] is first[2]  # the very same bytes object
    assert json.loads(bytes(parse_server_frames(first[0])[0].data))["type"] == "heartbeat"


def test_testclient_has_no_transport_so_the_asgi_path_is_used(client: TestClient, app: FastAPI) -> None:
    feed: Broadcaster = app.state.broadcaster
    with client.websocket_connect(f"/ws?token={READ_TOKEN}") as ws:
        assert ws.receive_json()["type"] == "welcome"
        ws.send_json({"action": "ping", "id": "1"})
        assert ws.receive_json()["type"] == "pong"
        assert [c.sink for c in feed.clients] == [None]


def test_frame_sink_refuses_unknown_connections() -> None:
    class NotAWebSocket:
        async def _receive(self) -> None: ...

    assert frame_sink(NotAWebSocket()) is None  # type: ignore[arg-type]


class FakeTransport:
    def __init__(self) -> None:
        self.data = b""
        self.closing = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 7

    def abort(self) -> None:
        self.aborted = True


class FakeProtocol:
    """The attributes of uvicorn's sansio protocol that ``SansIOSink`` reads."""

    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.conn = ClientProtocol(parse_uri("ws://x/"), state=State.OPEN)  # any websockets Protocol
        self.writable = asyncio.Event()
        self.writable.set()
        self.close_sent = False
        self.disconnected = False


@pytest.mark.parametrize("change", ["close_sent", "disconnected", "transport_closing", "conn_closing", "paused"])
async def test_sansio_sink_never_writes_after_close_or_while_paused(change: str) -> None:
    proto = FakeProtocol()
    sink = SansIOSink(proto)
    assert sink.try_write(b"a") and proto.transport.data == b"a"
    assert sink.buffered() == 7
    if change == "close_sent":
        proto.close_sent = True
    elif change == "disconnected":
        proto.disconnected = True
    elif change == "transport_closing":
        proto.transport.closing = True
    elif change == "conn_closing":
        proto.conn.state = State.CLOSING
    else:
        proto.writable.clear()
    assert not sink.try_write(b"b")
    assert proto.transport.data == b"a"
    assert sink.is_open() is (change == "paused")


async def test_a_transport_that_raises_only_loses_its_own_client() -> None:
    class BrokenSink(FakeSink):
        def try_write(self, frame: bytes) -> bool:
            raise RuntimeError("Cannot call write() after write_eof()")

    feed = Broadcaster()
    broken = feed.register(FakeConnection(), Scope.READ, BrokenSink())
    feed.subscribe(broken, ["order"])
    _, healthy = direct_client(feed, ["order"])
    feed.reply(broken, {"type": "pong"})  # a control reply: must not raise into the caller
    assert broken.closed and [c.sink for c in feed.clients] == [healthy]
    again = feed.register(FakeConnection(), Scope.READ, BrokenSink())
    feed.subscribe(again, ["order"])
    feed.publish("order", {})  # the fan-out goes on past it
    await settle()
    assert healthy.data_seqs() == [1]
    assert again.closed and again not in feed.clients
