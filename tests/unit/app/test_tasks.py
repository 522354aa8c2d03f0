from __future__ import annotations

import asyncio

from ictbot.app.tasks import RetryPolicy, TaskManager, TaskState
from ictbot.bus import Envelope, EventBus, Topic


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


def test_backoff_schedule_is_exponential_and_capped() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert [policy.delay(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(jitter=0.1)
    assert policy.delay(3, rand=lambda: 0.0) == 8 * 0.9
    assert policy.delay(3, rand=lambda: 1.0) == 8 * 1.1
    assert policy.delay(10, rand=lambda: 1.0) == 60


async def test_failing_task_retries_with_backoff_then_alerts() -> None:
    bus = EventBus()
    alerts: list[Envelope] = []
    bus.subscribe(Topic.ALERT, alerts.append)
    await bus.start()
    sleep = FakeSleep()
    manager = TaskManager(bus, sleep=sleep, rand=lambda: 0.5)
    attempts = 0

    async def always_fails() -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("feed down")

    info = manager.spawn("feed", always_fails, policy=RetryPolicy(max_retries=4))
    assert info.task is not None
    await info.task
    await bus.wait_idle()
    await bus.stop()
    assert attempts == 5
    assert sleep.calls == [1, 2, 4, 8]
    assert info.state is TaskState.FAILED
    assert manager.status()["feed"]["last_error"] == "ConnectionError: feed down"
    assert len(alerts) == 1 and "feed" in alerts[0].payload.message


async def test_task_recovers_after_transient_failures() -> None:
    sleep = FakeSleep()
    manager = TaskManager(sleep=sleep, rand=lambda: 0.5)
    attempts = 0

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise TimeoutError("transient")

    info = manager.spawn("flaky", flaky)
    assert info.task is not None
    await info.task
    assert info.state is TaskState.COMPLETED and info.restarts == 2 and sleep.calls == [1, 2]


async def test_shutdown_cancels_cleanly() -> None:
    manager = TaskManager()
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    info = manager.spawn("loop", forever)
    await started.wait()
    await manager.shutdown()
    assert info.state is TaskState.CANCELLED and info.task is not None and info.task.done()


async def test_a_loop_that_ran_long_enough_before_failing_starts_its_retry_count_again() -> None:
    sleep = FakeSleep()
    manager = TaskManager(sleep=sleep, rand=lambda: 0.5)
    loop = asyncio.get_running_loop()
    runs = 0

    async def fails_after_a_while() -> None:
        nonlocal runs
        runs += 1
        if runs in (3, 4):  # these two ran "for a day" before failing (the loop's clock moved on)
            began = loop.time()
            while loop.time() - began < 0.05:
                await asyncio.sleep(0.01)
        if runs == 5:
            return
        raise ConnectionError(f"run {runs}")

    info = manager.spawn("loop", fails_after_a_while, policy=RetryPolicy(max_retries=3, stable_after=0.05))
    assert info.task is not None
    await info.task
    # Without the reset the third failure in a row would use delay 4 and the fourth would be given up.
    assert sleep.calls == [1, 2, 1, 1] and info.state is TaskState.COMPLETED and info.restarts == 4
