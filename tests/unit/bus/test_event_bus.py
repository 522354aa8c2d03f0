from __future__ import annotations

import asyncio

import pytest

from ictbot.bus import BackpressureError, BackpressurePolicy, Envelope, EventBus, Topic
from ictbot.domain.events import Alert, AlertLevel, ConfigUpdated


def alert(n: int) -> Alert:
    return Alert(AlertLevel.INFO, "test", str(n))


async def test_each_subscriber_sees_its_topic_in_publish_order() -> None:
    bus = EventBus()
    seen: dict[str, list[str]] = {"a": [], "b": []}

    async def handler_a(env: Envelope) -> None:
        seen["a"].append(env.payload.message)

    def handler_b(env: Envelope) -> None:
        seen["b"].append(env.payload.message)

    bus.subscribe(Topic.ALERT, handler_a, name="a")
    bus.subscribe(Topic.ALERT, handler_b, name="b")
    await bus.start()
    for i in range(500):
        await bus.publish(Topic.ALERT, alert(i))
    await bus.wait_idle()
    await bus.stop()
    expected = [str(i) for i in range(500)]
    assert seen["a"] == expected and seen["b"] == expected


async def test_topics_are_isolated_and_payload_types_checked() -> None:
    bus = EventBus()
    got: list[Envelope] = []
    bus.subscribe(Topic.CONFIG_UPDATED, got.append)
    await bus.start()
    await bus.publish(Topic.ALERT, alert(1))
    await bus.publish(Topic.CONFIG_UPDATED, ConfigUpdated(1, "risk", {}))
    with pytest.raises(TypeError, match="carries Alert"):
        await bus.publish(Topic.ALERT, ConfigUpdated(1, "risk", {}))
    await bus.wait_idle()
    await bus.stop()
    assert [env.topic for env in got] == [Topic.CONFIG_UPDATED]


async def test_failing_handler_is_counted_and_isolated() -> None:
    bus = EventBus()
    good: list[int] = []

    def bad(env: Envelope) -> None:
        if env.payload.message == "2":
            raise RuntimeError("boom")

    bad_sub = bus.subscribe(Topic.ALERT, bad, name="bad")
    bus.subscribe(Topic.ALERT, lambda env: good.append(int(env.payload.message)), name="good")
    await bus.start()
    for i in range(5):
        await bus.publish(Topic.ALERT, alert(i))
    await bus.wait_idle()
    assert bad_sub.failed == 1 and bad_sub.delivered == 4
    assert good == [0, 1, 2, 3, 4]
    await bus.stop()


async def test_block_policy_makes_publisher_wait_and_loses_nothing() -> None:
    bus = EventBus()
    release = asyncio.Event()
    got: list[int] = []

    async def slow(env: Envelope) -> None:
        await release.wait()
        got.append(int(env.payload.message))

    sub = bus.subscribe(Topic.ALERT, slow, maxsize=2)
    await bus.start()
    publisher = asyncio.create_task(_publish_many(bus, 10))
    await asyncio.sleep(0.05)
    assert not publisher.done(), "publisher should be blocked by the full queue"
    assert sub.depth <= 2
    with pytest.raises(BackpressureError):
        bus.publish_nowait(Topic.ALERT, alert(99))
    release.set()
    await publisher
    await bus.wait_idle()
    await bus.stop()
    assert got == list(range(10)) and sub.dropped == 0


async def _publish_many(bus: EventBus, n: int) -> None:
    for i in range(n):
        await bus.publish(Topic.ALERT, alert(i))


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(BackpressurePolicy.DROP_OLDEST, [7, 8, 9]), (BackpressurePolicy.DROP_NEWEST, [0, 1, 2])],
)
async def test_drop_policies_keep_a_bounded_queue(policy: BackpressurePolicy, expected: list[int]) -> None:
    bus = EventBus()
    got: list[int] = []
    sub = bus.subscribe(Topic.ALERT, lambda env: got.append(int(env.payload.message)), maxsize=3, policy=policy)
    # Not started: events accumulate in the queue, exercising the bound deterministically.
    for i in range(10):
        bus.publish_nowait(Topic.ALERT, alert(i))
    assert sub.depth == 3 and sub.dropped == 7
    await bus.start()
    await bus.wait_idle()
    await bus.stop()
    assert got == expected


async def test_publish_from_another_thread() -> None:
    bus = EventBus()
    got: list[str] = []
    bus.subscribe(Topic.ALERT, lambda env: got.append(env.payload.message))
    await bus.start()
    await asyncio.to_thread(bus.publish_threadsafe, Topic.ALERT, alert(42))
    await bus.wait_idle()
    await bus.stop()
    assert got == ["42"]


async def test_stats_report_counts() -> None:
    bus = EventBus()
    bus.subscribe(Topic.ALERT, lambda env: None, name="sink")
    await bus.start()
    await bus.publish(Topic.ALERT, alert(1))
    await bus.wait_idle()
    stats = bus.stats()
    await bus.stop()
    assert stats["published"] == {"alert": 1}
    assert stats["subscriptions"][0]["delivered"] == 1
