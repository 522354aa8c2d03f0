"""The config file watcher runs under the TaskManager: restarted with backoff, listed, one ALERT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ictbot.app.config_manager import ConfigManager
from ictbot.app.tasks import TaskState
from ictbot.filemodes import atomic_write_text
from tests.unit.app.supervised import Supervised, failing_first

WATCH_TASK = "config.watch"  # its name in /status


def _manager(tmp_path: Path, run: Supervised) -> ConfigManager:
    manager = ConfigManager(tmp_path / "config.json", run.bus, poll_interval=0.001, tasks=run.tasks)
    manager.load()
    manager.save()
    return manager


async def test_a_watcher_whose_read_raises_is_restarted_and_still_applies_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with Supervised() as run:
        manager = _manager(tmp_path, run)
        body, calls = failing_first(2, "config read failed: disk error", manager.check_file)
        monkeypatch.setattr(manager, "check_file", body)
        await manager.start_watching()
        try:
            await run.until(lambda: calls[0] >= 3)
            info = run.info(WATCH_TASK)
            assert (info.state, info.restarts, info.failures) == (TaskState.RUNNING, 2, 2)
            assert info.last_error == "RuntimeError: config read failed: disk error"
            document = manager.document()
            document["risk"]["max_open_positions"] = 2
            atomic_write_text(manager.path, json.dumps(document))
            await run.until(lambda: manager.config.risk.get("max_open_positions") == 2)
        finally:
            await manager.stop_watching()
        assert run.info(WATCH_TASK).state is TaskState.CANCELLED


async def test_a_watcher_that_keeps_failing_raises_exactly_one_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with Supervised() as run:
        manager = _manager(tmp_path, run)
        body, calls = failing_first(10_000, "config read failed")
        monkeypatch.setattr(manager, "check_file", body)
        await manager.start_watching()
        info = await run.given_up(WATCH_TASK)
        await manager.stop_watching()
    assert calls[0] == 11 and info.restarts == 10  # the first run and RetryPolicy's ten retries
    assert run.task_alerts() == [f"task:{WATCH_TASK}"]
