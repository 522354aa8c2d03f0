"""Fan-out of live events to WebSocket clients.

Every message is serialised once, numbered with a global ``seq`` and kept in a ring buffer so a
reconnecting client can resume after the last ``seq`` it saw. Each client has a bounded queue and
its own sender task: ``publish`` never awaits, so a slow client cannot delay the others or the bus.
A client whose queue fills up is disconnected (close code 4008) instead of silently losing
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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from pydantic import BaseModel

from ictbot.api.auth import Scope
from ictbot.api.serialize import TOPIC_MESSAGES, to_jsonable
from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription
from ictbot.ports.facade import WS_TYPES

log = structlog.get_logger(__name__)

CLOSE_SLOW_CONSUMER = 4008
CLOSE_SHUTDOWN = 1001


class Connection(Protocol):
    async def send_text(self, text: str) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


@dataclass(eq=False)
class WsClient:
    id: int
    connection: Connection
    scope: Scope
    maxsize: int
    types: set[str] = field(default_factory=set)
    queue: deque[str] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    closed: bool = False
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class _Recorded:
    seq: int
    type: str
    text: str


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
        self._ring: deque[_Recorded] = deque(maxlen=ring_size) if ring_size else deque(maxlen=0)
        self._clients: dict[int, WsClient] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._bus_subs: list[Subscription] = []
        self.evicted = 0
        self.published = 0

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
        self._tasks.append(asyncio.create_task(self._heartbeats(), name="api.ws.heartbeat"))
        if metrics_source is not None and metrics_interval_s > 0:
            self._tasks.append(
                asyncio.create_task(self._metric_feed(metrics_source, metrics_interval_s), name="api.ws.metrics")
            )

    async def stop(self) -> None:
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
    def clients(self) -> list[WsClient]:
        return list(self._clients.values())

    def publish(self, message_type: str, data: Any) -> int:
        """Number, record and fan out one message; returns its ``seq``. Never awaits."""
        if message_type not in WS_TYPES:
            raise ValueError(f"unknown message type {message_type!r}")
        self._seq += 1
        seq = self._seq
        text = _dumps({"type": message_type, "data": to_jsonable(data), "timestamp": self._now_ms(), "seq": seq})
        self._ring.append(_Recorded(seq, message_type, text))
        self.published += 1
        slow: list[WsClient] = []
        for client in self._clients.values():
            if message_type in client.types and not self._offer(client, text):
                slow.append(client)
        for client in slow:
            self._drop(client, CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and resume from your last seq")
        return seq

    def reply(self, client: WsClient, message: dict[str, Any]) -> None:
        """A control message to one client (no seq, not recorded)."""
        message.setdefault("timestamp", self._now_ms())
        if not self._offer(client, _dumps(message)):
            self._drop(client, CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and resume from your last seq")

    def _offer(self, client: WsClient, text: str) -> bool:
        if client.closed:
            return True
        if len(client.queue) >= client.maxsize:
            return False
        client.queue.append(text)
        client.wakeup.set()
        return True

    # ---- clients ------------------------------------------------------------------------------
    def register(self, connection: Connection, scope: Scope) -> WsClient:
        client = WsClient(next(self._ids), connection, scope, self.queue_size)
        client.task = asyncio.create_task(self._sender(client), name=f"api.ws.client{client.id}")
        self._clients[client.id] = client
        return client

    def unregister(self, client: WsClient) -> None:
        client.closed = True
        self._clients.pop(client.id, None)
        if client.task is not None and client.task is not asyncio.current_task():
            client.task.cancel()

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
        """Replay recorded messages with ``seq > since_seq`` of the client's types, in order."""
        oldest = self._ring[0].seq if self._ring else self._seq + 1
        gap = None
        if since_seq < oldest - 1:
            gap = f"messages {since_seq + 1}..{oldest - 1} are no longer available; reload state over REST"
        for recorded in self._ring:
            if recorded.seq > since_seq and recorded.type in client.types and not self._offer(client, recorded.text):
                self._drop(client, CLOSE_SLOW_CONSUMER, "replay exceeds the client queue; resume later")
                break
        return gap

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

    @staticmethod
    async def _close(client: WsClient, code: int, reason: str) -> None:
        # A stalled peer may never complete the close handshake; do not wait on it forever.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.connection.close(code, reason), timeout=2.0)

    async def _sender(self, client: WsClient) -> None:
        queue = client.queue
        try:
            while not client.closed:
                if not queue:
                    client.wakeup.clear()
                    await client.wakeup.wait()
                    continue
                await client.connection.send_text(queue.popleft())
                client.sent += 1
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer went away; the receive loop will notice and unregister
            client.closed = True
            self._clients.pop(client.id, None)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            beat = {"type": "heartbeat", "data": {"seq": self._seq, "clients": len(self._clients)}}
            for client in list(self._clients.values()):
                self.reply(client, dict(beat))

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
            "seq": self._seq,
            "published": self.published,
            "evicted": self.evicted,
            "ring": len(self._ring),
            "queued": sum(len(c.queue) for c in self._clients.values()),
        }
