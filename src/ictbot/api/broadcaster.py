"""Fan-out of live events to WebSocket clients.

Every message is serialised once, numbered with a global ``seq`` and kept in a ring buffer so a
reconnecting client can resume after the last ``seq`` it saw. ``publish`` never awaits, so a slow
client cannot delay the others or the bus:

* ``publish`` records the message and appends it to an outbox; one fan-out task delivers each
  message to every subscribed client in turn, yielding to the loop every 256 clients;
* a client served by uvicorn's sansio protocol has a direct path (``ws_direct_path.frame_sink``): the message
  is framed once (the bytes of an unmasked server text frame are the same for every client) and
  written straight to each idle client's transport while its write buffer is below the high-water
  mark: one ``transport.write`` per client, no ASGI ``send`` chain, no per-client framing;
* other clients (TestClient, other protocols) go through ``send_text``, started inline ("eager"):
  with the transport writable it completes without suspending;
* a client whose transport is paused (the peer is not reading) gets a drain task: later messages
  go to the client's bounded queue and that task sends them in order once the buffer drains;
* a client whose queue fills up is disconnected (close code 4008) instead of silently losing
  messages; it reconnects and resumes from its last ``seq``.

Messages: ``{"type", "data", "timestamp", "seq"}``; control replies (welcome, ack, error, pong,
heartbeat) carry no ``seq`` of their own and are never replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from pydantic import BaseModel

from ictbot.api.auth import Scope
from ictbot.api.dto import WS_TYPES
from ictbot.api.serialize import TOPIC_MESSAGES, to_jsonable
from ictbot.api.ws_direct_path import FrameSink, text_frame
from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription

log = structlog.get_logger(__name__)

CLOSE_SLOW_CONSUMER = 4008
FANOUT_CHUNK = 256  # clients served between two yields to the event loop
CLOSE_SHUTDOWN = 1001
_SLOW = "slow consumer: reconnect and resume from your last seq"


class Connection(Protocol):
    async def send_text(self, text: str) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


class _Message:
    """One serialised message (``seq`` 0 for control replies); its frame is built on first use and
    shared by every direct-path client."""

    __slots__ = ("_frame", "seq", "text", "type")

    def __init__(self, seq: int, message_type: str, text: str) -> None:
        self.seq = seq
        self.type = message_type
        self.text = text
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        frame = self._frame
        if frame is None:
            frame = self._frame = text_frame(self.text.encode())
        return frame


@dataclass(eq=False)
class WsClient:
    id: int
    connection: Connection
    scope: Scope
    maxsize: int
    sink: FrameSink | None = None  # the direct path, when the server protocol offers one
    types: set[str] = field(default_factory=set)
    queue: deque[_Message] = field(default_factory=deque)
    sent: int = 0
    last_seq: int = 0  # newest data message handed to this client
    closed: bool = False
    task: asyncio.Task[None] | None = None  # the drain task while a send is waiting

    @property
    def busy(self) -> bool:
        return self.task is not None


async def _finish(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Drive a coroutine that was started by hand and suspended, yielding ``yielded``, to its end.

    Does what ``asyncio.Task`` does for a coroutine it runs: wait for the future it is blocked on,
    then resume it; exceptions (cancellation included) are thrown into it.
    """
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                # the future was handed to us still flagged "being awaited"; clear it as Task does
                yielded._asyncio_future_blocking = False
                await yielded
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            yielded = coro.send(None)
        except StopIteration:
            return


class Broadcaster:
    def __init__(
        self,
        *,
        queue_size: int = 1024,
        ring_size: int = 5000,
        heartbeat_s: float = 15.0,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self._now_ms = now_ms
        self._seq = 0
        self._ids = itertools.count(1)
        self._ring: deque[_Message] = deque(maxlen=ring_size) if ring_size else deque(maxlen=0)
        self._clients: dict[int, WsClient] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox: deque[_Message] = deque()
        self._fanout_task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._bus_subs: list[Subscription] = []
        self.evicted = 0
        self.published = 0
        self.close_timeout_s = 2.0

    # ---- wiring -------------------------------------------------------------------------------
    def attach(self, bus: EventBus, *, maxsize: int = 10_000) -> list[Subscription]:
        """Feed bus events to clients. DROP_OLDEST: the live feed must never slow trading down."""
        for topic, (message_type, convert) in TOPIC_MESSAGES.items():
            handler = self._bus_handler(message_type, convert)
            self._bus_subs.append(
                bus.subscribe(topic, handler, name=f"api.ws.{topic.value}", maxsize=maxsize,
                              policy=BackpressurePolicy.DROP_OLDEST)
            )
        return list(self._bus_subs)

    def detach(self, bus: EventBus) -> None:
        for sub in self._bus_subs:
            bus.unsubscribe(sub)
        self._bus_subs.clear()

    def _bus_handler(self, message_type: str, convert: Callable[[Any], dict[str, Any]]) -> Callable[[Envelope], None]:
        def handle(envelope: Envelope) -> None:
            self.publish(message_type, convert(envelope.payload))

        handle.__qualname__ = f"Broadcaster.{message_type}"
        return handle

    async def start(
        self, metrics_source: Callable[[], Awaitable[BaseModel]] | None = None, metrics_interval_s: float = 5.0
    ) -> None:
        """Start heartbeats (and the periodic ``metric`` message). Idempotent."""
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._heartbeats(), name="api.ws.heartbeat"))
        if metrics_source is not None and metrics_interval_s > 0:
            self._tasks.append(
                asyncio.create_task(self._metric_feed(metrics_source, metrics_interval_s), name="api.ws.metrics")
            )

    async def stop(self) -> None:
        if self._fanout_task is not None:
            self._tasks.append(self._fanout_task)
            self._fanout_task = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for client in list(self._clients.values()):
            self._drop(client, CLOSE_SHUTDOWN, "server shutting down")
        if self._closing:
            await asyncio.wait(self._closing, timeout=2.0)

    # ---- publishing ---------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        return self._seq

    @property
    def fanout_pending(self) -> int:
        """Messages not yet handed to every client's transport or queue (O(1), unlike ``stats``)."""
        return len(self._outbox) + int(self._fanout_task is not None and not self._fanout_task.done())

    @property
    def clients(self) -> list[WsClient]:
        return list(self._clients.values())

    def publish(self, message_type: str, data: Any) -> int:
        """Number and record one message, hand it to the fan-out task; returns its ``seq``.

        O(1) for the caller (a bus handler): never awaits and never touches a socket.
        """
        if message_type not in WS_TYPES:
            raise ValueError(f"unknown message type {message_type!r}")
        self._seq += 1
        seq = self._seq
        text = _dumps({"type": message_type, "data": to_jsonable(data), "timestamp": self._now_ms(), "seq": seq})
        recorded = _Message(seq, message_type, text)
        self._ring.append(recorded)
        self._outbox.append(recorded)
        self.published += 1
        if self._fanout_task is None or self._fanout_task.done():
            self._fanout_task = asyncio.get_running_loop().create_task(self._fanout(), name="api.ws.fanout")
        return seq

    async def _fanout(self) -> None:
        """Deliver outbox messages in order, yielding to other tasks every ``FANOUT_CHUNK`` clients."""
        while self._outbox:
            message = self._outbox.popleft()
            seq, message_type, frame = message.seq, message.type, message.frame
            offered = 0
            for client in list(self._clients.values()):
                # last_seq: a resume may already have replayed this message to the client
                if client.closed or message_type not in client.types or seq <= client.last_seq:
                    continue
                client.last_seq = seq
                sink = client.sink
                try:
                    if sink is not None and client.task is None and sink.try_write(frame):
                        client.sent += 1  # the common case, kept inline: one transport write
                    elif not self._offer(client, message):
                        self._drop(client, CLOSE_SLOW_CONSUMER, _SLOW)
                except Exception:  # one broken connection must not stop the fan-out
                    self._gone(client)
                offered += 1
                if offered % FANOUT_CHUNK == 0:
                    await asyncio.sleep(0)

    def reply(self, client: WsClient, message: dict[str, Any]) -> None:
        """A control message to one client (no seq, not recorded)."""
        message.setdefault("timestamp", self._now_ms())
        self._control(client, _Message(0, str(message.get("type", "")), _dumps(message)))

    def _control(self, client: WsClient, message: _Message) -> None:
        if not self._offer(client, message):
            self._drop(client, CLOSE_SLOW_CONSUMER, _SLOW)

    def _offer(self, client: WsClient, message: _Message) -> bool:
        """Send now if the client is idle, else queue; False when its queue is full."""
        if client.closed:
            return True
        if client.busy:
            if len(client.queue) >= client.maxsize:
                return False
            client.queue.append(message)
            return True
        sink = client.sink
        if sink is not None:
            try:
                wrote = sink.try_write(message.frame)
            except Exception:  # as for send_text below: the peer went away
                self._gone(client)
                return True
            if wrote:
                client.sent += 1
            elif not sink.is_open():  # closing: the receive loop will see the disconnect
                self._gone(client)
            else:
                client.queue.append(message)
                client.task = asyncio.get_running_loop().create_task(
                    self._drain_frames(client, sink), name=f"api.ws.client{client.id}"
                )
            return True
        coro = client.connection.send_text(message.text)
        try:
            yielded = coro.send(None)
        except StopIteration:
            client.sent += 1
            return True
        except Exception:  # the peer went away; the receive loop will notice too
            self._gone(client)
            return True
        client.task = asyncio.get_running_loop().create_task(
            self._drain(client, coro, yielded), name=f"api.ws.client{client.id}"
        )
        return True

    async def _drain(self, client: WsClient, pending: Coroutine[Any, Any, None], yielded: Any) -> None:
        """Finish the send that had to wait, then send whatever queued up meanwhile, in order."""
        try:
            await _finish(pending, yielded)
            client.sent += 1
            while client.queue and not client.closed:
                await client.connection.send_text(client.queue.popleft().text)
                client.sent += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self._gone(client)
        finally:
            client.task = None

    async def _drain_frames(self, client: WsClient, sink: FrameSink) -> None:
        """Direct path: write the queued frames in order as the transport's buffer drains."""
        try:
            while client.queue and not client.closed:
                await sink.wait_writable()
                if not sink.is_open():
                    self._gone(client)
                    return
                while client.queue and sink.try_write(client.queue[0].frame):
                    client.queue.popleft()
                    client.sent += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self._gone(client)
        finally:
            client.task = None

    def _gone(self, client: WsClient) -> None:
        client.closed = True
        client.queue.clear()
        self._clients.pop(client.id, None)

    # ---- clients ------------------------------------------------------------------------------
    def register(self, connection: Connection, scope: Scope, sink: FrameSink | None = None) -> WsClient:
        client = WsClient(next(self._ids), connection, scope, self.queue_size, sink)
        self._clients[client.id] = client
        return client

    def unregister(self, client: WsClient) -> None:
        client.closed = True
        self._clients.pop(client.id, None)
        task = client.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def subscribe(self, client: WsClient, types: Iterable[str], since_seq: int | None = None) -> str | None:
        """Add types; with ``since_seq`` replay recorded messages after it. Returns a gap warning."""
        added = set(types) - client.types
        client.types |= added
        if since_seq is None:
            return None
        return self.resume(client, since_seq)

    def unsubscribe(self, client: WsClient, types: Iterable[str]) -> None:
        client.types -= set(types)

    def resume(self, client: WsClient, since_seq: int) -> str | None:
        """Replay recorded messages with ``seq > since_seq`` of the client's types, in order.

        At most half the client's queue is replayed (the newest); a gap message says what is missing.
        """
        oldest = self._ring[0].seq if self._ring else self._seq + 1
        wanted = [r for r in self._ring if r.seq > since_seq and r.type in client.types]
        limit = max(1, client.maxsize // 2)
        first_missing = since_seq + 1
        last_missing = oldest - 1
        if len(wanted) > limit:
            wanted = wanted[-limit:]
            last_missing = wanted[0].seq - 1
        for recorded in wanted:
            self._offer(client, recorded)
            client.last_seq = max(client.last_seq, recorded.seq)
        if last_missing >= first_missing:
            return f"messages {first_missing}..{last_missing} are not replayed; reload state over REST"
        return None

    def _drop(self, client: WsClient, code: int, reason: str) -> None:
        if client.closed:
            return
        if code == CLOSE_SLOW_CONSUMER:
            self.evicted += 1
            log.warning("websocket client dropped", client=client.id, reason=reason, queued=len(client.queue))
        self.unregister(client)
        client.queue.clear()
        task = asyncio.get_running_loop().create_task(self._close(client, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, client: WsClient, code: int, reason: str) -> None:
        # A stalled peer may never complete the close handshake; do not wait on it forever.
        try:
            await asyncio.wait_for(client.connection.close(code, reason), timeout=self.close_timeout_s)
        except Exception:
            if client.sink is not None:  # free its buffers now rather than at the peer's leisure
                client.sink.abort()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            beat = {"type": "heartbeat", "data": {"seq": self._seq, "clients": len(self._clients)},
                    "timestamp": self._now_ms()}
            message = _Message(0, "heartbeat", _dumps(beat))  # serialised and framed once for everyone
            for client in list(self._clients.values()):
                self._control(client, message)

    async def _metric_feed(self, source: Callable[[], Awaitable[BaseModel]], interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            if not any("metric" in client.types for client in self._clients.values()):
                continue
            try:
                self.publish("metric", (await source()).model_dump(mode="json"))
            except Exception as exc:
                log.warning("metric feed failed", error=type(exc).__name__)

    def stats(self) -> dict[str, int]:
        return {
            "clients": len(self._clients),
            "direct": sum(c.sink is not None for c in self._clients.values()),
            "seq": self._seq,
            "published": self.published,
            "evicted": self.evicted,
            "ring": len(self._ring),
            "queued": sum(len(c.queue) for c in self._clients.values()),
            # direct path: bytes its transports hold that the kernel has not taken (slow peers)
            "buffered_bytes": sum(c.sink.buffered() for c in self._clients.values() if c.sink is not None),
            "fanout_pending": self.fanout_pending,
        }
