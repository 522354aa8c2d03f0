"""Builds the running bot from settings and drives its lifecycle.

Everything that runs is a ``Service`` registered with the orchestrator with its dependencies, so
startup order, reverse shutdown and the health map come from one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from ictbot.app.config_manager import ConfigManager
from ictbot.app.orchestrator import FunctionService, Orchestrator, Service, ServiceHealth, ServiceState
from ictbot.app.settings import Settings
from ictbot.app.tasks import TaskManager
from ictbot.bus import EventBus

log = structlog.get_logger(__name__)


class Application:
    def __init__(self, settings: Settings, *, config_path: Path | None = None) -> None:
        self.settings = settings
        self.bus = EventBus()
        self.tasks = TaskManager(self.bus)
        self.config = ConfigManager(config_path or settings.config_file, self.bus,
                                    history_versions=settings.config_history_versions,
                                    history_bytes=settings.config_history_bytes, tasks=self.tasks)
        self.orchestrator = Orchestrator()
        self.stop_event = asyncio.Event()
        self._register_core()

    def _register_core(self) -> None:
        self.orchestrator.register(
            FunctionService(
                "event_bus", start=self.bus.start, stop=self.bus.stop,
                health=lambda: ServiceHealth(
                    ServiceState.HEALTHY if self.bus.running else ServiceState.STOPPED,
                    data={"queues": sum(sub.depth for sub in self.bus.subscriptions())},
                ),
            )
        )

        async def load_config() -> None:
            self.config.load()

        self.orchestrator.register(
            FunctionService(
                "config", initialize=load_config, start=self.config.start_watching, stop=self.config.stop_watching,
                health=lambda: ServiceHealth(ServiceState.HEALTHY, data={"version": self.config.version}),
            ),
            depends_on=["event_bus"],
        )

        async def stop_tasks() -> None:
            await self.tasks.shutdown()

        def tasks_health() -> ServiceHealth:
            failed = [name for name, info in self.tasks.status().items() if info["state"] == "failed"]
            state = ServiceState.DEGRADED if failed else ServiceState.HEALTHY
            return ServiceHealth(state, f"failed: {', '.join(failed)}" if failed else "",
                                   {"tasks": self.tasks.status()})

        self.orchestrator.register(FunctionService("tasks", stop=stop_tasks, health=tasks_health),
                                   depends_on=["event_bus"])

    def register(self, service: Service, depends_on: list[str] | tuple[str, ...] = ()) -> Service:
        return self.orchestrator.register(service, depends_on)

    async def start(self) -> None:
        await self.orchestrator.start()

    async def stop(self) -> list[tuple[str, BaseException]]:
        """Stop every service (reverse order) and always save the configuration."""
        errors: list[tuple[str, BaseException]] = []
        try:
            errors = await self.orchestrator.stop()
        finally:
            try:
                self.config.save()
            except Exception as exc:
                log.error("could not save configuration on shutdown", error=str(exc))
                errors.append(("config-save", exc))
        return errors

    def request_stop(self) -> None:
        self.stop_event.set()

    def install_signal_handlers(self, loop: asyncio.AbstractEventLoop | None = None) -> list[int]:
        """SIGINT and SIGTERM request a graceful stop. Returns the signals handled."""
        loop = loop or asyncio.get_running_loop()
        installed: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal, sig)
                installed.append(sig)
        return installed

    def _on_signal(self, sig: int) -> None:
        log.info("signal received; shutting down", signal=signal.Signals(sig).name)
        self.request_stop()

    async def run(self, *, on_started: Callable[[Application], Any] | None = None,
                  duration: float | None = None) -> list[tuple[str, BaseException]]:
        """Start, wait for a stop request (signal, API, ``duration``), stop. Returns stop errors."""
        self.install_signal_handlers()
        await self.start()
        try:
            if on_started is not None:
                result = on_started(self)
                if asyncio.iscoroutine(result):
                    await result
            if duration is None:
                await self.stop_event.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_event.wait(), timeout=duration)
        finally:
            errors = await self.stop()
        return errors
