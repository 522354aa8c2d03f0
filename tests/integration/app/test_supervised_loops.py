"""Every long-running loop of the running bot is listed in ``GET /status`` (tasks), and a loop that
raised shows its restarts and its last error with secrets redacted (issue #17)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ictbot.app.settings import Settings, TradingMode
from ictbot.app.system import System, SystemSpec, running_system
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim import SimConfig

TOKEN = "supervised-loops-token-0123456789"
SECRET = "hooks-secret-5150"
LOOPS = ("config.watch", "monitoring.evaluate", "api.ws.heartbeat", "api.ws.metrics",
         "marketdata.stream", "instruments.refresh", "risk.poll")


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    settings = Settings(TRADING_MODE=TradingMode.PAPER, DATABASE_PATH=tmp_path / "t.db",  # type: ignore[call-arg]
                        ICTBOT_CONFIG_FILE=tmp_path / "config.json", LOG_DIR=tmp_path, API_PORT=0,
                        ICTBOT_API_TOKEN=TOKEN)
    spec = SystemSpec(
        settings, warmup_candles=300, api=True,
        simulator=SimConfig(symbols=("BTCUSDT",), synthetic_timeframe=Timeframe.M5, synthetic_candles=500,
                            warmup_candles=400, seed=5),
        config={"exchange": {"symbols": ["BTCUSDT"], "base_timeframe": "5m", "context_timeframes": ["15m"]}},
    )
    async with running_system(spec) as running:
        yield running


async def _tasks(system: System) -> dict[str, dict[str, Any]]:
    assert system.api is not None
    async with httpx.AsyncClient(base_url=system.api.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        response = await http.get("/status")
    assert response.status_code == 200, response.text
    return {task["name"]: task for task in response.json()["tasks"]}


async def test_status_lists_every_loop_and_a_restarted_one_with_its_redacted_error(
    system: System, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ictbot.app.logsetup import REDACTOR

    tasks = await _tasks(system)
    assert {name: tasks[name]["state"] for name in LOOPS if name in tasks} == dict.fromkeys(LOOPS, "running")

    REDACTOR.add([SECRET])
    config = system.application.config
    raised = asyncio.Event()

    async def unreadable() -> bool:
        monkeypatch.undo()  # once: the restarted watcher reads the file again
        raised.set()
        raise OSError(f"cannot read https://hooks.example/{SECRET}/config")

    monkeypatch.setattr(config, "check_file", unreadable)
    await asyncio.wait_for(raised.wait(), 10)
    watch = system.application.tasks.get("config.watch")
    assert watch is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while watch.restarts < 1 and loop.time() < deadline:
        await asyncio.sleep(0.05)
    listed = (await _tasks(system))["config.watch"]
    assert (listed["state"], listed["restarts"], listed["failures"]) == ("running", 1, 1)
    assert listed["last_error"] == "OSError: cannot read https://hooks.example/***/config"
