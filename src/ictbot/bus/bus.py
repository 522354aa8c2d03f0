"""In-process event bus.

Each subscription owns a bounded FIFO and one worker task, so a handler sees the events of its
topic in publish order and a slow handler delays only itself.

Backpressure policy (per subscription, chosen at subscribe time):

* ``BLOCK`` (default): ``await publish`` waits until every BLOCK subscriber has room. Nothing is
  lost; trading-critical consumers (risk, execution, storage) use it. ``publish_nowait`` raises
  ``BackpressureError`` instead of waiting, so sync callers learn the bus is saturated.
* ``DROP_OLDEST``: the oldest queued event is discarded (counted in ``dropped``). For consumers
  that only need the latest state (dashboards, metrics).
* ``DROP_NEWEST``: the new event is discarded for that subscriber (counted in ``dropped``).

A handler that raises is logged and counted; the bus and the other handlers carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import structlog

from ictbot.bus.topics import TOPIC_PAYLOADS, Topic

log = structlog.get_logger(__name__)

Handler = Callable[["Envelope"], Awaitable[None] | None]


class BackpressurePolicy(str, Enum):
    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"


class BackpressureError(RuntimeError):
    """A BLOCK subscriber's queue is full and the caller cannot wait."""


class Envelope:
    """One published event. ``published_ns`` is ``time.time_ns()`` at publish (wall clock, UTC)."""

    __slots__ = ("payload", "published_ns", "seq", "topic")

    def __init__(self, topic: Topic, payload: Any, seq: int, published_ns: int) -> None:
        self.topic = topic
        self.payload = payload
        self.seq = seq
        self.published_ns = published_ns

    @property
    def time_ms(self) -> int:
        return self.published_ns // 1_000_000

    def __repr__(self) -> str:
        return f"Envelope({self.topic.value}, seq={self.seq}, {self.payload!r})"


@dataclass(eq=False)
class Subscription:
    topic: Topic
    name: str
    handler: Handler
    maxsize: int
    policy: BackpressurePolicy
    queue: deque[Envelope] = field(default_factory=deque)
    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    _is_async: bool = False
    _wakeup: asyncio.Future[None] | None = None
    _space: asyncio.Future[None] | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        return len(self.queue)

    def stats(self) -> dict[str, Any]:
        return {
            "topic": self.topic.value,
            "name": self.name,
            "policy": self.policy.value,
            "depth": self.depth,
            "maxsize": self.maxsize,
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
        }


class EventBus:
    def __init__(self, *, validate_payloads: bool = True) -> None:
        self._subs: dict[Topic, list[Subscription]] = {topic: [] for topic in Topic}
        self._seq = itertools.count(1)
        self._published: dict[Topic, int] = dict.fromkeys(Topic, 0)
        self._validate = validate_payloads
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False

    # ---- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._running = True
        for subs in self._subs.values():
            for sub in subs:
                self._spawn(sub)

    async def stop(self, *, drain: bool = True, timeout: float = 5.0) -> None:
        """Stop workers; with ``drain`` first let them empty their queues (bounded by ``timeout``)."""
        if drain:
            deadline = time.monotonic() + timeout
            while any(sub.queue for sub in self._all()) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
        self._running = False
        tasks = [sub._task for sub in self._all() if sub._task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sub in self._all():
            sub._task = None

    @property
    def running(self) -> bool:
        return self._running

    # ---- subscribe ------------------------------------------------------------------------
    def subscribe(
        self,
        topic: Topic,
        handler: Handler,
        *,
        name: str | None = None,
        maxsize: int = 10_000,
        policy: BackpressurePolicy = BackpressurePolicy.BLOCK,
    ) -> Subscription:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        sub = Subscription(
            topic=topic,
            name=name or str(getattr(handler, "__qualname__", repr(handler))),
            handler=handler,
            maxsize=maxsize,
            policy=policy,
        )
        sub._is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004
        )
        self._subs[topic].append(sub)
        if self._running:
            self._spawn(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subs[sub.topic].remove(sub)
        if sub._task is not None:
            sub._task.cancel()
            sub._task = None

    # ---- publish --------------------------------------------------------------------------
    async def publish(self, topic: Topic, payload: Any) -> Envelope:
        envelope = self._envelope(topic, payload)
        block = BackpressurePolicy.BLOCK
        for sub in self._subs[topic]:
            queue = sub.queue
            while len(queue) >= sub.maxsize and sub.policy is block:
                if sub._space is None or sub._space.done():
                    sub._space = asyncio.get_running_loop().create_future()
                await sub._space
            if len(queue) < sub.maxsize:
                queue.append(envelope)
                wakeup = sub._wakeup
                if wakeup is not None and not wakeup.done():
                    wakeup.set_result(None)
            else:
                self._enqueue(sub, envelope)
        return envelope

    def publish_nowait(self, topic: Topic, payload: Any) -> Envelope:
        """Publish from synchronous code running on the bus's event loop."""
        envelope = self._envelope(topic, payload)
        for sub in self._subs[topic]:
            if sub.policy is BackpressurePolicy.BLOCK and len(sub.queue) >= sub.maxsize:
                raise BackpressureError(f"subscriber {sub.name!r} on {topic.value} is full ({sub.maxsize})")
        for sub in self._subs[topic]:
            self._enqueue(sub, envelope)
        return envelope

    def publish_threadsafe(self, topic: Topic, payload: Any) -> None:
        """Publish from another thread (e.g. a blocking I/O worker); waits for room like ``publish``."""
        if self._loop is None:
            raise RuntimeError("bus not started")
        if threading.get_ident() == getattr(self._loop, "_thread_id", None):
            raise RuntimeError("publish_threadsafe called on the loop thread; use publish_nowait")
        asyncio.run_coroutine_threadsafe(self.publish(topic, payload), self._loop).result()

    # ---- introspection ----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return {
            "published": {topic.value: count for topic, count in self._published.items() if count},
            "subscriptions": [sub.stats() for sub in self._all()],
        }

    def subscriptions(self, topic: Topic | None = None) -> list[Subscription]:
        return list(self._all()) if topic is None else list(self._subs[topic])

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every queue is empty and no handler is mid-event (tests, shutdown, backtests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(sub.queue for sub in self._all()) and all(
                sub._wakeup is not None and not sub._wakeup.done() for sub in self._all() if sub._task
            ):
                return
            await asyncio.sleep(0)
            await asyncio.sleep(0.0005)
        raise TimeoutError("event bus did not become idle")

    # ---- internals ----------------------------------------------------------------------------
    def _all(self) -> itertools.chain[Subscription]:
        return itertools.chain.from_iterable(self._subs.values())

    def _envelope(self, topic: Topic, payload: Any) -> Envelope:
        if self._validate:
            expected = TOPIC_PAYLOADS[topic]
            if not isinstance(payload, expected):
                raise TypeError(f"{topic.value} carries {expected.__name__}, not {type(payload).__name__}")
        self._published[topic] += 1
        return Envelope(topic, payload, next(self._seq), time.time_ns())

    def _enqueue(self, sub: Subscription, envelope: Envelope) -> None:
        if len(sub.queue) >= sub.maxsize:
            if sub.policy is BackpressurePolicy.DROP_NEWEST:
                sub.dropped += 1
                return
            if sub.policy is BackpressurePolicy.DROP_OLDEST:
                sub.queue.popleft()
                sub.dropped += 1
        sub.queue.append(envelope)
        wakeup = sub._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def _spawn(self, sub: Subscription) -> None:
        if sub._task is None:
            sub._task = asyncio.get_running_loop().create_task(self._worker(sub), name=f"bus:{sub.name}")

    async def _worker(self, sub: Subscription) -> None:
        loop = asyncio.get_running_loop()
        queue = sub.queue
        handler = sub.handler
        is_async = sub._is_async
        while True:
            if not queue:
                sub._wakeup = loop.create_future()
                await sub._wakeup
                continue
            envelope = queue.popleft()
            space = sub._space
            if space is not None and not space.done():
                space.set_result(None)
            try:
                result = handler(envelope)
                if is_async:
                    await result  # type: ignore[misc]
                elif result is not None and inspect.isawaitable(result):
                    await result
                sub.delivered += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                sub.failed += 1
                log.exception("bus handler failed", subscriber=sub.name, topic=sub.topic.value, seq=envelope.seq)
