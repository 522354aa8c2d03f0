"""MonitoringSystem: component health, stale data, reconnect storms and anomalies -> ALERT events.

The rules are pure (``monitoring.rules``); this is the thin shell that gathers inputs, deduplicates
(an alert fires when its condition starts, again every ``realert_after_s`` while it lasts, and an
INFO "recovered" alert when it clears) and publishes on the bus. Its interval loop is the task
``monitoring.evaluate`` of the task supervisor ``start`` is given: an evaluation that raises
restarts it with backoff (listed in ``/status``), one that keeps failing raises one ALERT.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription, Topic
from ictbot.domain import events as ev
from ictbot.monitoring.collector import MetricsCollector
from ictbot.monitoring.reports import ComponentHealth, HealthReport, HealthState
from ictbot.monitoring.rules import AlertDraft, MonitorInputs, Thresholds, evaluate, stale_series
from ictbot.ports.clock import Clock, SystemClock
from ictbot.ports.tasks import TaskSupervisor

TASK_NAME = "monitoring.evaluate"
HealthCheck = Callable[[], ComponentHealth | Awaitable[ComponentHealth]]


class MonitoringSystem:
    def __init__(
        self,
        bus: EventBus,
        collector: MetricsCollector,
        *,
        clock: Clock | None = None,
        thresholds: Thresholds | None = None,
        interval_s: float = 5.0,
        check_timeout_s: float = 2.0,
    ) -> None:
        self.bus = bus
        self.collector = collector
        self.clock = clock or SystemClock()
        self.thresholds = thresholds or Thresholds()
        self.interval_s = interval_s
        self.check_timeout_s = check_timeout_s
        self._checks: dict[str, HealthCheck] = {}
        self._last_candle: dict[tuple[str, str], int] = {}
        self._reconnects: dict[str, deque[int]] = {}
        self._active: dict[str, int] = {}  # alert key -> last time it fired (ms)
        self._bus_counters: dict[str, tuple[int, int]] = {}
        self._subs: list[Subscription] = []
        self._tasks: TaskSupervisor | None = None

    # ---- inputs -------------------------------------------------------------------------------
    def attach(self) -> None:
        for topic in (Topic.CANDLE_STORED, Topic.KLINE_UPDATED):
            self._subs.append(self.bus.subscribe(topic, self._on_candle, name=f"monitoring.stale.{topic.value}",
                                                 maxsize=10_000, policy=BackpressurePolicy.DROP_OLDEST))

    def _on_candle(self, envelope: Envelope) -> None:
        candle = envelope.payload.candle
        if not candle.closed:
            return
        key = (candle.symbol, candle.timeframe.value)
        if candle.open_time > self._last_candle.get(key, -1):
            self._last_candle[key] = candle.open_time

    def last_closed(self, timeframe: str) -> dict[str, int]:
        """Symbol -> open time of its newest closed ``timeframe`` candle seen on the bus."""
        return {symbol: t for (symbol, tf), t in self._last_candle.items() if tf == timeframe}

    def note_reconnect(self, source: str) -> None:
        """Called by feeds/venues on every reconnect; many in a short window is an alert."""
        times = self._reconnects.setdefault(source, deque(maxlen=1000))
        times.append(self.clock.now_ms())

    def register_check(self, name: str, check: HealthCheck) -> None:
        self._checks[name] = check

    # ---- health -------------------------------------------------------------------------------
    async def health(self) -> HealthReport:
        components = {"bus": self._bus_health(), "market_data": self._market_data_health()}
        for name, check in self._checks.items():
            components[name] = await self._run_check(check)
        return HealthReport.combine(components)

    async def _run_check(self, check: HealthCheck) -> ComponentHealth:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, timeout=self.check_timeout_s)
            assert isinstance(result, ComponentHealth)
            return result
        except TimeoutError:
            return ComponentHealth(status=HealthState.UNHEALTHY, detail="health check timed out")
        except Exception as exc:
            return ComponentHealth(status=HealthState.UNHEALTHY, detail=f"health check failed: {type(exc).__name__}")

    def _bus_health(self) -> ComponentHealth:
        if not self.bus.running:
            return ComponentHealth(status=HealthState.UNHEALTHY, detail="event bus not running")
        limit = self.thresholds.queue_fill_warning
        full = [s["name"] for s in self.bus.stats()["subscriptions"]
                if s["policy"] == "block" and s["maxsize"] and s["depth"] / s["maxsize"] >= limit]
        if full:
            return ComponentHealth(status=HealthState.DEGRADED, detail=f"queues nearly full: {', '.join(full)}")
        return ComponentHealth(status=HealthState.HEALTHY, last_ok_ms=self.clock.now_ms())

    def _market_data_health(self) -> ComponentHealth:
        if not self._last_candle:
            return ComponentHealth(status=HealthState.HEALTHY, detail="no candles yet")
        stale = stale_series(self._inputs(), self.thresholds)
        if stale:
            names = ", ".join(f"{symbol} {tf}" for symbol, tf, _ in stale[:5])
            return ComponentHealth(status=HealthState.DEGRADED, detail=f"stale: {names}")
        return ComponentHealth(status=HealthState.HEALTHY, last_ok_ms=max(self._last_candle.values()))

    # ---- alerts -------------------------------------------------------------------------------
    def _inputs(self) -> MonitorInputs:
        subs: list[dict[str, Any]] = self.bus.stats()["subscriptions"]
        failed_delta: dict[str, int] = {}
        dropped_delta: dict[str, int] = {}
        for sub in subs:
            name = f"{sub['name']}@{sub['topic']}"
            before_failed, before_dropped = self._bus_counters.get(name, (0, 0))
            failed_delta[name] = sub["failed"] - before_failed
            if sub["policy"] == "block":  # drops on lossy subscriptions are by design
                dropped_delta[name] = sub["dropped"] - before_dropped
        return MonitorInputs(
            now_ms=self.clock.now_ms(), last_candle=dict(self._last_candle),
            reconnects={k: list(v) for k, v in self._reconnects.items()}, metrics=self.collector.snapshot(),
            bus_subscriptions=subs, bus_failed_delta=failed_delta, bus_dropped_delta=dropped_delta,
        )

    def _remember_bus_counters(self) -> None:
        for sub in self.bus.stats()["subscriptions"]:
            self._bus_counters[f"{sub['name']}@{sub['topic']}"] = (sub["failed"], sub["dropped"])

    async def evaluate_once(self) -> list[ev.Alert]:
        """Evaluate the rules now; publish and return the alerts that are due."""
        drafts = evaluate(self._inputs(), self.thresholds)
        self._remember_bus_counters()
        now = self.clock.now_ms()
        due: list[ev.Alert] = []
        current = {d.key for d in drafts}
        for draft in drafts:
            last = self._active.get(draft.key)
            if last is None or now - last >= self.thresholds.realert_after_s * 1000:
                self._active[draft.key] = now
                due.append(self._alert(draft))
        for key in [k for k in self._active if k not in current]:
            del self._active[key]
            due.append(ev.Alert(ev.AlertLevel.INFO, "monitoring", f"recovered: {key}", {"key": key}))
        for alert in due:
            await self.bus.publish(Topic.ALERT, alert)
        return due

    @staticmethod
    def _alert(draft: AlertDraft) -> ev.Alert:
        return ev.Alert(draft.level, "monitoring", draft.message, {"key": draft.key, **draft.details})

    # ---- lifecycle ----------------------------------------------------------------------------
    async def run(self) -> None:
        """Evaluate every ``interval_s``; an evaluation that raises ends the loop (the supervisor
        restarts it with backoff and keeps its last error)."""
        while True:
            await self.clock.sleep(self.interval_s)
            await self.evaluate_once()

    def start(self, tasks: TaskSupervisor) -> None:
        """Run the interval loop under ``tasks``. Idempotent."""
        if self._tasks is None:
            tasks.spawn(TASK_NAME, self.run, restart_on_exit=True)
            self._tasks = tasks

    async def stop(self) -> None:
        if self._tasks is not None:
            await self._tasks.cancel(TASK_NAME)
            self._tasks = None
        for sub in self._subs:
            self.bus.unsubscribe(sub)
        self._subs.clear()
