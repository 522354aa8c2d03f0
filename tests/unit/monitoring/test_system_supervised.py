"""The monitoring interval loop runs under the TaskManager: restarted with backoff, listed, one ALERT."""

from __future__ import annotations

import pytest

from ictbot.app.tasks import TaskState
from ictbot.monitoring import MetricsCollector, MonitoringSystem
from tests.unit.app.supervised import Supervised, failing_first

TASK_NAME = "monitoring.evaluate"  # its name in /status


async def test_an_evaluation_that_raises_restarts_the_loop_which_then_evaluates_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with Supervised() as run:
        monitor = MonitoringSystem(run.bus, MetricsCollector(), interval_s=0.001)
        body, calls = failing_first(2, "metrics snapshot failed", monitor.evaluate_once)
        monkeypatch.setattr(monitor, "evaluate_once", body)
        monitor.start(run.tasks)
        await run.until(lambda: calls[0] >= 4)  # two failures, then evaluations go on
        info = run.info(TASK_NAME)
        assert (info.state, info.restarts, info.failures) == (TaskState.RUNNING, 2, 2)
        assert info.last_error == "RuntimeError: metrics snapshot failed"
        await monitor.stop()
        assert info.state is TaskState.CANCELLED


async def test_an_evaluation_that_keeps_failing_raises_exactly_one_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Supervised() as run:
        monitor = MonitoringSystem(run.bus, MetricsCollector(), interval_s=0.001)
        body, calls = failing_first(10_000, "metrics snapshot failed")
        monkeypatch.setattr(monitor, "evaluate_once", body)
        monitor.start(run.tasks)
        info = await run.given_up(TASK_NAME)
        await monitor.stop()
    assert calls[0] == 11 and info.restarts == 10
    assert run.task_alerts() == [f"task:{TASK_NAME}"]
