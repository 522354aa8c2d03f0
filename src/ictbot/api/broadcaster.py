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

The concerns live in their own modules: the client and message records (``ws_client``), delivery
to one client (``ws_delivery``), the periodic heartbeat and metric loops under the task
supervisor (``ws_feeds``); this module numbers, records, fans out and replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ictbot.api.dto import WS_TYPES
from ictbot.api.serialize import TOPIC_MESSAGES, to_jsonable
from ictbot.api.ws_client import CLOSE_SHUTDOWN, CLOSE_SLOW_CONSUMER, SLOW_REASON, WsClient, WsMessage, dumps
from ictbot.api.ws_delivery import ClientDelivery
from ictbot.api.ws_feeds import HEARTBEAT_TASK, METRICS_TASK, MetricsSource, OwnTasks, heartbeats, metric_feed
from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription
from ictbot.ports.tasks import TaskSupervisor

__all__ = ["CLOSE_SHUTDOWN", "CLOSE_SLOW_CONSUMER", "FANOUT_CHUNK", "Broadcaster", "WsClient"]

FANOUT_CHUNK = 256  # clients served between two yields to the event loop


class Broadcaster(ClientDelivery):
    def __init__(
        self,
        *,
        queue_size: int = 1024,
        ring_size: int = 5000,
        heartbeat_s: float = 15.0,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        super().__init__(queue_size)
        self.heartbeat_s = heartbeat_s
        self._now_ms = now_ms
        self._seq = 0
        self._ring: deque[WsMessage] = deque(maxlen=ring_size) if ring_size else deque(maxlen=0)
        self._outbox: deque[WsMessage] = deque()
        self._fanout_task: asyncio.Task[None] | None = None
        self._bus_subs: list[Subscription] = []
        self._supervisor: TaskSupervisor | None = None
        self._loops: list[str] = []
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
        self, metrics_source: MetricsSource | None = None, metrics_interval_s: float = 5.0, *,
        tasks: TaskSupervisor | None = None,
    ) -> None:
        """Start heartbeats (and the periodic ``metric`` message) under ``tasks`` (the
        application's supervisor; without one, plain tasks). Idempotent."""
        if self._supervisor is not None:
            return
        supervisor = self._supervisor = tasks if tasks is not None else OwnTasks()
        supervisor.spawn(HEARTBEAT_TASK, lambda: heartbeats(self), restart_on_exit=True)
        self._loops.append(HEARTBEAT_TASK)
        source = metrics_source
        if source is not None and metrics_interval_s > 0:
            supervisor.spawn(METRICS_TASK, lambda: metric_feed(self, source, metrics_interval_s),
                             restart_on_exit=True)
            self._loops.append(METRICS_TASK)

    async def stop(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        while supervisor is not None and self._loops:
            await supervisor.cancel(self._loops.pop())
        fanout, self._fanout_task = self._fanout_task, None
        if fanout is not None:
            fanout.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fanout
        for client in list(self._clients.values()):
            self._drop(client, CLOSE_SHUTDOWN, "server shutting down")
        if self._closing:
            await asyncio.wait(self._closing, timeout=2.0)

    # ---- periodic messages (run by ws_feeds' loops) -------------------------------------------
    def heartbeat(self) -> None:
        beat = {"type": "heartbeat", "data": {"seq": self._seq, "clients": len(self._clients)},
                "timestamp": self._now_ms()}
        message = WsMessage(0, "heartbeat", dumps(beat))  # serialised and framed once for everyone
        for client in list(self._clients.values()):
            self._control(client, message)

    def wants(self, message_type: str) -> bool:
        """Whether any client is subscribed to ``message_type``."""
        return any(message_type in client.types for client in self._clients.values())

    # ---- publishing ---------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        return self._seq

    @property
    def fanout_pending(self) -> int:
        """Messages not yet handed to every client's transport or queue (O(1), unlike ``stats``)."""
        return len(self._outbox) + int(self._fanout_task is not None and not self._fanout_task.done())

    def publish(self, message_type: str, data: Any) -> int:
        """Number and record one message, hand it to the fan-out task; returns its ``seq``.

        O(1) for the caller (a bus handler): never awaits and never touches a socket.
        """
        if message_type not in WS_TYPES:
            raise ValueError(f"unknown message type {message_type!r}")
        self._seq += 1
        seq = self._seq
        text = dumps({"type": message_type, "data": to_jsonable(data), "timestamp": self._now_ms(), "seq": seq})
        recorded = WsMessage(seq, message_type, text)
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
                        self._drop(client, CLOSE_SLOW_CONSUMER, SLOW_REASON)
                except Exception:  # one broken connection must not stop the fan-out
                    self._gone(client)
                offered += 1
                if offered % FANOUT_CHUNK == 0:
                    await asyncio.sleep(0)

    def reply(self, client: WsClient, message: dict[str, Any]) -> None:
        """A control message to one client (no seq, not recorded)."""
        message.setdefault("timestamp", self._now_ms())
        self._control(client, WsMessage(0, str(message.get("type", "")), dumps(message)))

    # ---- subscriptions and resume -------------------------------------------------------------
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
