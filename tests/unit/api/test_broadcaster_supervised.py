"""The WebSocket heartbeat and metric loops run under the TaskManager: restarted, listed, one ALERT."""

from __future__ import annotations

import asyncio

import pytest

from ictbot.api.auth import Scope
from ictbot.api.broadcaster import Broadcaster
from ictbot.app.tasks import TaskState
from ictbot.monitoring.reports import TradingMetrics
from tests.unit.api.test_broadcaster import FakeConnection
from tests.unit.app.supervised import Supervised, failing_first

HEARTBEAT_TASK, METRICS_TASK = "api.ws.heartbeat", "api.ws.metrics"  # their names in /status


async def _metrics() -> TradingMetrics:
    return TradingMetrics(trades=3)


async def test_a_heartbeat_that_raises_restarts_the_loop_and_beats_reach_the_client_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with Supervised() as run:
        feed = Broadcaster(heartbeat_s=0.001)
        conn = FakeConnection()
        feed.register(conn, Scope.READ)

        beats = [0]
        real_heartbeat = feed.heartbeat

        def heartbeat() -> None:
            beats[0] += 1
            if beats[0] <= 2:
                raise RuntimeError("heartbeat failed")
            real_heartbeat()

        monkeypatch.setattr(feed, "heartbeat", heartbeat)
        await feed.start(tasks=run.tasks)
        await run.until(lambda: any(m["type"] == "heartbeat" for m in conn.received))
        info = run.info(HEARTBEAT_TASK)
        assert (info.state, info.restarts, info.failures) == (TaskState.RUNNING, 2, 2)
        assert info.last_error == "RuntimeError: heartbeat failed"
        await feed.stop()
        assert info.state is TaskState.CANCELLED


async def test_a_metric_source_that_raises_restarts_the_feed_which_then_publishes() -> None:
    async with Supervised() as run:
        feed = Broadcaster(heartbeat_s=60)
        conn = FakeConnection()
        feed.subscribe(feed.register(conn, Scope.READ), ["metric"])
        source, _ = failing_first(2, "facade metrics failed", _metrics)
        await feed.start(source, metrics_interval_s=0.001, tasks=run.tasks)  # type: ignore[arg-type]
        await run.until(lambda: any(m["type"] == "metric" for m in conn.received))
        info = run.info(METRICS_TASK)
        assert (info.restarts, info.failures, info.last_error) == (2, 2, "RuntimeError: facade metrics failed")
        assert next(m for m in conn.received if m["type"] == "metric")["data"]["trades"] == 3
        assert run.info(HEARTBEAT_TASK).state is TaskState.RUNNING
        await feed.stop()


async def test_a_metric_feed_that_keeps_failing_raises_exactly_one_alert() -> None:
    async with Supervised() as run:
        feed = Broadcaster(heartbeat_s=60)
        feed.subscribe(feed.register(FakeConnection(), Scope.READ), ["metric"])
        source, calls = failing_first(10_000, "facade metrics failed")
        await feed.start(source, metrics_interval_s=0.001, tasks=run.tasks)  # type: ignore[arg-type]
        info = await run.given_up(METRICS_TASK)
        await feed.stop()
    assert calls[0] == 11 and info.restarts == 10
    assert run.task_alerts() == [f"task:{METRICS_TASK}"]


async def test_without_a_supervisor_a_metric_feed_that_raised_runs_again() -> None:
    from ictbot.api.ws_feeds import OwnTasks

    feed = Broadcaster(heartbeat_s=60)
    conn = FakeConnection()
    feed.subscribe(feed.register(conn, Scope.READ), ["metric"])
    source, calls = failing_first(1, "facade metrics failed", _metrics)
    await feed.start(source, metrics_interval_s=0.001, tasks=OwnTasks(pause_s=0.001))  # type: ignore[arg-type]
    for _ in range(2000):
        if any(m["type"] == "metric" for m in conn.received):
            break
        await asyncio.sleep(0.001)
    await feed.stop()
    assert calls[0] >= 2 and next(m for m in conn.received if m["type"] == "metric")["data"]["trades"] == 3
