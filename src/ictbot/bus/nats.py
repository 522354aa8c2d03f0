"""The event bus over NATS JetStream, for deployments split over several processes.

Same interface as ``EventBus`` (subscribe / publish / start / stop / stats). Each subscription is a
durable JetStream consumer named after the subscriber, so a restarted process resumes where it
stopped and every process sharing a subscriber name shares the work. Events are JSON
(``ictbot.bus.codec``); each carries a ``Nats-Msg-Id`` so JetStream drops a duplicate publish.
Delivery is in order per subscription (one message in flight per consumer). A failing handler is
logged and counted and the message is acknowledged, so one poison event cannot block a topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from ictbot.bus.bus import Envelope
from ictbot.bus.codec import decode, encode
from ictbot.bus.topics import TOPIC_PAYLOADS, Topic

log = structlog.get_logger(__name__)

Handler = Callable[[Envelope], Awaitable[None] | None]


@dataclass(eq=False)
class NatsSubscription:
    topic: Topic
    name: str
    handler: Handler
    delivered: int = 0
    failed: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _sub: Any = field(default=None, repr=False)

    def stats(self) -> dict[str, Any]:
        return {"topic": self.topic.value, "name": self.name, "delivered": self.delivered, "failed": self.failed}


class NatsEventBus:
    def __init__(self, url: str = "nats://127.0.0.1:4222", *, stream: str = "ICTBOT", prefix: str = "ictbot",
                 max_age_seconds: float = 24 * 3600) -> None:
        self._url = url
        self._stream = stream
        self._prefix = prefix
        self._max_age = max_age_seconds
        self._subs: list[NatsSubscription] = []
        self._seq = itertools.count(1)
        self._nc: Any = None
        self._js: Any = None
        self._running = False
        self._published: dict[Topic, int] = dict.fromkeys(Topic, 0)
        self._instance = uuid.uuid4().hex[:12]

    def subject(self, topic: Topic) -> str:
        return f"{self._prefix}.{topic.value}"

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        import nats
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        self._nc = await nats.connect(self._url, connect_timeout=2, max_reconnect_attempts=3)
        self._js = self._nc.jetstream()
        config = StreamConfig(name=self._stream, subjects=[f"{self._prefix}.>"], max_age=self._max_age)
        try:
            await self._js.stream_info(self._stream)
            await self._js.update_stream(config)
        except NotFoundError:
            await self._js.add_stream(config)
        self._running = True
        for sub in self._subs:
            await self._attach(sub)

    async def stop(self, *, drain: bool = True, timeout: float = 5.0) -> None:
        self._running = False
        for sub in self._subs:
            if sub._task is not None:
                sub._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sub._task
                sub._task = None
            if sub._sub is not None:
                with contextlib.suppress(Exception):
                    await sub._sub.unsubscribe()
                sub._sub = None
        if self._nc is not None:
            with contextlib.suppress(Exception):
                if drain:
                    await asyncio.wait_for(self._nc.drain(), timeout)
                else:
                    await self._nc.close()
            self._nc = self._js = None

    def subscribe(self, topic: Topic, handler: Handler, *, name: str | None = None, **_: Any) -> NatsSubscription:
        sub = NatsSubscription(topic, name or str(getattr(handler, "__qualname__", "handler")), handler)
        self._subs.append(sub)
        if self._running:
            asyncio.get_running_loop().create_task(self._attach(sub))
        return sub

    async def publish(self, topic: Topic, payload: Any) -> Envelope:
        expected = TOPIC_PAYLOADS[topic]
        if not isinstance(payload, expected):
            raise TypeError(f"{topic.value} carries {expected.__name__}, not {type(payload).__name__}")
        if self._js is None:
            raise RuntimeError("NATS bus not started")
        seq = next(self._seq)
        await self._js.publish(self.subject(topic), encode(topic, payload),
                               headers={"Nats-Msg-Id": f"{self._instance}-{seq}"})
        self._published[topic] += 1
        return Envelope(topic, payload, seq, time.time_ns())

    def stats(self) -> dict[str, Any]:
        return {
            "published": {topic.value: count for topic, count in self._published.items() if count},
            "subscriptions": [sub.stats() for sub in self._subs],
        }

    def subscriptions(self, topic: Topic | None = None) -> list[NatsSubscription]:
        return [sub for sub in self._subs if topic is None or sub.topic is topic]

    async def _attach(self, sub: NatsSubscription) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        durable = f"{sub.name}-{sub.topic.value}".replace(".", "_").replace(" ", "_")[:200]
        sub._sub = await self._js.pull_subscribe(
            self.subject(sub.topic), durable=durable,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=1,
                                  deliver_policy=DeliverPolicy.NEW),
        )
        sub._task = asyncio.get_running_loop().create_task(self._pump(sub), name=f"nats:{durable}")

    async def _pump(self, sub: NatsSubscription) -> None:
        from nats.errors import TimeoutError as NatsTimeout

        while True:
            try:
                messages = await sub._sub.fetch(1, timeout=1.0)
            except NatsTimeout:
                continue
            for message in messages:
                try:
                    topic, payload = decode(message.data)
                    meta = message.metadata
                    envelope = Envelope(topic, payload, int(meta.sequence.stream), time.time_ns())
                    result = sub.handler(envelope)
                    if inspect.isawaitable(result):
                        await result
                    sub.delivered += 1
                except asyncio.CancelledError:
                    raise
                except Exception:
                    sub.failed += 1
                    log.exception("NATS bus handler failed", subscriber=sub.name, topic=sub.topic.value)
                await message.ack()
