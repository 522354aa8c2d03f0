"""Service lifecycle: initialize → start in dependency order, stop in reverse, health map."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

import structlog

from ictbot.domain.errors import StartupError

log = structlog.get_logger(__name__)


class ServiceState(str, Enum):
    """A long-running service's own state, as the orchestrator tracks it (STOPPED included); the
    health report's ``monitoring.reports.HealthState`` is derived from it (``app/health.py``)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """What a service reports of itself; ``monitoring.reports.ComponentHealth`` is the served form."""

    state: ServiceState
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.state.value, "detail": self.detail, **dict(self.data)}


@runtime_checkable
class Service(Protocol):
    name: str

    async def initialize(self) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def health(self) -> ServiceHealth: ...


class FunctionService:
    """Adapts plain callables (or nothing) to the ``Service`` protocol."""

    def __init__(
        self,
        name: str,
        *,
        initialize: Callable[[], Awaitable[None]] | None = None,
        start: Callable[[], Awaitable[None]] | None = None,
        stop: Callable[[], Awaitable[None]] | None = None,
        health: Callable[[], ServiceHealth] | None = None,
    ) -> None:
        self.name = name
        self._initialize, self._start, self._stop, self._health = initialize, start, stop, health
        self._running = False

    async def initialize(self) -> None:
        if self._initialize:
            await self._initialize()

    async def start(self) -> None:
        if self._start:
            await self._start()
        self._running = True

    async def stop(self) -> None:
        self._running = False
        if self._stop:
            await self._stop()

    def health(self) -> ServiceHealth:
        if self._health:
            return self._health()
        return ServiceHealth(ServiceState.HEALTHY if self._running else ServiceState.STOPPED)


@dataclass
class _Entry:
    service: Service
    depends_on: tuple[str, ...]
    started: bool = False
    started_at: float | None = None


class Orchestrator:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, _Entry] = {}
        self._clock = clock
        self._started_at: float | None = None
        self._order: list[str] = []

    def register(self, service: Service, depends_on: tuple[str, ...] | list[str] = ()) -> Service:
        if service.name in self._entries:
            raise StartupError(f"service {service.name!r} registered twice")
        self._entries[service.name] = _Entry(service, tuple(depends_on))
        return service

    def get(self, name: str) -> Service:
        return self._entries[name].service

    @property
    def names(self) -> list[str]:
        return list(self._entries)

    def start_order(self) -> list[str]:
        """Topological order (Kahn's algorithm, stable by registration order)."""
        for name, entry in self._entries.items():
            missing = [dep for dep in entry.depends_on if dep not in self._entries]
            if missing:
                raise StartupError(f"service {name!r} depends on unregistered {', '.join(map(repr, missing))}")
        remaining = {name: set(entry.depends_on) for name, entry in self._entries.items()}
        order: list[str] = []
        while remaining:
            ready = [name for name, deps in remaining.items() if not deps]
            if not ready:
                raise StartupError(f"dependency cycle among {', '.join(sorted(remaining))}")
            for name in ready:
                order.append(name)
                del remaining[name]
            for deps in remaining.values():
                deps.difference_update(ready)
        return order

    async def start(self) -> None:
        """Initialize every service, then start them; on any failure stop those already started."""
        order = self.start_order()
        self._order = order
        current = ""
        try:
            for current in order:
                log.debug("initializing service", service=current)
                await self._entries[current].service.initialize()
            for current in order:
                log.info("starting service", service=current)
                entry = self._entries[current]
                await entry.service.start()
                entry.started, entry.started_at = True, self._clock()
        except Exception as exc:
            log.error("service failed to start; rolling back", service=current, error=str(exc))
            await self.stop()
            raise StartupError(f"service {current!r} failed to start: {exc}") from exc
        self._started_at = self._clock()

    async def stop(self) -> list[tuple[str, BaseException]]:
        """Stop started services in reverse order. Errors are collected, never stop the sequence."""
        errors: list[tuple[str, BaseException]] = []
        for name in reversed(self._order or self.start_order()):
            entry = self._entries[name]
            if not entry.started:
                continue
            try:
                log.info("stopping service", service=name)
                await entry.service.stop()
            except Exception as exc:
                log.error("service failed to stop", service=name, error=str(exc))
                errors.append((name, exc))
            finally:
                entry.started = False
        self._started_at = None
        return errors

    @property
    def uptime_seconds(self) -> float:
        return 0.0 if self._started_at is None else self._clock() - self._started_at

    def get_health_status(self) -> dict[str, Any]:
        """``{"status": "healthy"|"degraded", "uptime_seconds": float, "components": {name: {...}}}``."""
        components: dict[str, Any] = {}
        healthy = True
        for name, entry in self._entries.items():
            try:
                health = entry.service.health()
            except Exception as exc:
                health = ServiceHealth(ServiceState.UNHEALTHY, f"health check raised: {exc}")
            if not entry.started and health.state is ServiceState.HEALTHY:
                health = ServiceHealth(ServiceState.STOPPED, health.detail, health.data)
            item = health.as_dict()
            if entry.started_at is not None and entry.started:
                item["uptime_seconds"] = round(self._clock() - entry.started_at, 3)
            components[name] = item
            healthy = healthy and health.state is ServiceState.HEALTHY
        return {
            "status": "healthy" if healthy and self._started_at is not None else "degraded",
            "uptime_seconds": round(self.uptime_seconds, 3),
            "components": components,
        }
