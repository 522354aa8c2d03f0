from __future__ import annotations

import pytest

from ictbot.app.orchestrator import FunctionService, Orchestrator, ServiceHealth, ServiceState
from ictbot.domain.errors import StartupError


def recording(name: str, log: list[str], *, fail_start: bool = False, fail_stop: bool = False) -> FunctionService:
    async def initialize() -> None:
        log.append(f"init:{name}")

    async def start() -> None:
        if fail_start:
            raise RuntimeError(f"{name} cannot start")
        log.append(f"start:{name}")

    async def stop() -> None:
        log.append(f"stop:{name}")
        if fail_stop:
            raise RuntimeError(f"{name} cannot stop")

    return FunctionService(name, initialize=initialize, start=start, stop=stop)


async def test_starts_in_dependency_order_and_stops_in_reverse() -> None:
    log: list[str] = []
    orch = Orchestrator()
    orch.register(recording("api", log), depends_on=["execution", "bus"])
    orch.register(recording("execution", log), depends_on=["storage", "bus"])
    orch.register(recording("bus", log))
    orch.register(recording("storage", log), depends_on=["bus"])
    await orch.start()
    assert [e for e in log if e.startswith("start")] == ["start:bus", "start:storage", "start:execution", "start:api"]
    assert log.index("init:api") < log.index("start:bus"), "every service initializes before any starts"
    await orch.stop()
    assert [e for e in log if e.startswith("stop")] == ["stop:api", "stop:execution", "stop:storage", "stop:bus"]


async def test_cycle_is_a_clear_startup_error() -> None:
    orch = Orchestrator()
    orch.register(FunctionService("a"), depends_on=["b"])
    orch.register(FunctionService("b"), depends_on=["a"])
    with pytest.raises(StartupError, match="cycle"):
        await orch.start()


async def test_missing_dependency_is_named() -> None:
    orch = Orchestrator()
    orch.register(FunctionService("a"), depends_on=["ghost"])
    with pytest.raises(StartupError, match="'ghost'"):
        await orch.start()


async def test_failed_start_stops_services_already_started() -> None:
    log: list[str] = []
    orch = Orchestrator()
    orch.register(recording("db", log))
    orch.register(recording("feed", log), depends_on=["db"])
    orch.register(recording("broken", log, fail_start=True), depends_on=["feed"])
    with pytest.raises(StartupError, match="broken"):
        await orch.start()
    assert [e for e in log if e.startswith("stop")] == ["stop:feed", "stop:db"]
    assert orch.get_health_status()["status"] == "degraded"


async def test_stop_continues_past_a_failing_service() -> None:
    log: list[str] = []
    orch = Orchestrator()
    orch.register(recording("a", log))
    orch.register(recording("b", log, fail_stop=True), depends_on=["a"])
    await orch.start()
    errors = await orch.stop()
    assert [name for name, _ in errors] == ["b"]
    assert "stop:a" in log


async def test_health_map_reports_each_component() -> None:
    now = [100.0]
    orch = Orchestrator(clock=lambda: now[0])
    orch.register(FunctionService("ok"))
    orch.register(FunctionService("sick", health=lambda: ServiceHealth(ServiceState.DEGRADED, "stale data")))
    await orch.start()
    now[0] = 130.0
    status = orch.get_health_status()
    assert status["status"] == "degraded"
    assert status["uptime_seconds"] == 30.0
    assert status["components"]["ok"]["status"] == "healthy"
    assert status["components"]["sick"] == {"status": "degraded", "detail": "stale data", "uptime_seconds": 30.0}
    await orch.stop()
    assert orch.get_health_status()["components"]["ok"]["status"] == "stopped"
