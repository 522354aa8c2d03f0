"""The NATS JetStream bus against the real server on 127.0.0.1:4222."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from ictbot.bus import Envelope, Topic
from ictbot.bus.nats import NatsEventBus
from ictbot.domain.events import Alert, AlertLevel
from tests.conftest import require_service

pytestmark = pytest.mark.nats


def unique_bus() -> NatsEventBus:
    tag = uuid.uuid4().hex[:8]
    return NatsEventBus(stream=f"ICTBOT_TEST_{tag}", prefix=f"ictbot_test_{tag}", max_age_seconds=300)


async def wait_for(condition: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def test_events_cross_processes_in_order_and_survive_a_failing_handler() -> None:
    require_service("nats")
    producer, consumer = unique_bus(), unique_bus()
    consumer._stream, consumer._prefix = producer._stream, producer._prefix
    got: list[str] = []

    def handler(env: Envelope) -> None:
        if env.payload.message == "3":
            raise RuntimeError("poison")
        got.append(env.payload.message)

    sub = consumer.subscribe(Topic.ALERT, handler, name="alerts")
    await producer.start()
    await consumer.start()
    try:
        for i in range(10):
            await producer.publish(Topic.ALERT, Alert(AlertLevel.INFO, "test", str(i)))
        await wait_for(lambda: sub.delivered + sub.failed == 10)
        assert got == [str(i) for i in range(10) if i != 3]
        assert sub.failed == 1
    finally:
        await consumer.stop()
        js = producer._js
        await js.delete_stream(producer._stream)
        await producer.stop()


async def test_durable_consumer_resumes_after_restart() -> None:
    require_service("nats")
    bus = unique_bus()
    got: list[str] = []
    bus.subscribe(Topic.ALERT, lambda env: got.append(env.payload.message), name="durable")
    await bus.start()
    await bus.publish(Topic.ALERT, Alert(AlertLevel.INFO, "t", "before"))
    await wait_for(lambda: got == ["before"])
    await bus.stop()

    publisher = NatsEventBus(stream=bus._stream, prefix=bus._prefix)
    await publisher.start()
    await publisher.publish(Topic.ALERT, Alert(AlertLevel.INFO, "t", "while-down"))

    restarted = NatsEventBus(stream=bus._stream, prefix=bus._prefix)
    restarted.subscribe(Topic.ALERT, lambda env: got.append(env.payload.message), name="durable")
    await restarted.start()
    try:
        await wait_for(lambda: got == ["before", "while-down"])
    finally:
        await restarted.stop()
        await publisher._js.delete_stream(bus._stream)
        await publisher.stop()
