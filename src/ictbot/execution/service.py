"""ExecutionService: the one object the app wires in for orders and positions.

    service = ExecutionService(bus, venue, journal, fills, positions_repo, clock, ExecutionConfig(),
                               kv=kv_store, on_mismatch=risk.trip)
    await service.start()      # load journal, reconcile, subscribe SIGNAL_VALIDATED, start loops
    service.health()           # dict for /health
    await service.close_position(position_id)   # PositionNotFoundError (404) / ...AlreadyClosed (409)
    await service.cancel_order(client_order_id) # UnknownOrderError (404) / OrderNotOpenError (409)
    await service.emergency_stop()
    await service.stop()

Background loops (``config.background_tasks``): the user-stream consumer (REST polling of orders
while it is down, a full reconcile after every reconnect) and a timer loop (entry timeouts,
unknown-outcome resolution, protection re-arming, periodic reconcile). Given a ``tasks``
supervisor (the app's ``TaskManager``) they run under it as ``execution.stream`` and
``execution.timers``: restarted with backoff if one ever ends or raises, an ALERT when the
supervisor gives up, listed in ``/status``; without one (tests) they are plain tasks. Backtests and
tests turn them off and call ``tick()`` / ``reconcile()`` themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from typing import Any

import structlog

from ictbot.bus import Envelope, EventBus, Subscription, Topic
from ictbot.domain.errors import IctbotError
from ictbot.domain.events import Alert, AlertLevel, OrderIntent
from ictbot.domain.order import Order
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.errors import EntriesBlockedError
from ictbot.execution.executor import MismatchCallback, OrderExecutor
from ictbot.execution.reconciler import Reconciler, ReconcileResult
from ictbot.execution.venue_ext import user_stream_of
from ictbot.ports.clock import Clock
from ictbot.ports.repositories import FillRepository, KeyValueStore, OrderJournal, PositionRepository
from ictbot.ports.tasks import TaskSupervisor
from ictbot.ports.venue import ExecutionVenue
from ictbot.positions.manager import PositionManager
from ictbot.positions.monitor import PositionMonitor
from ictbot.positions.rules import StopRules

log = structlog.get_logger(__name__)

_STARTUP = "startup"
STREAM_TASK = "execution.stream"
TIMERS_TASK = "execution.timers"


class ExecutionService:
    def __init__(
        self,
        bus: EventBus,
        venue: ExecutionVenue,
        journal: OrderJournal,
        fills: FillRepository,
        positions: PositionRepository,
        clock: Clock,
        config: ExecutionConfig | None = None,
        *,
        kv: KeyValueStore | None = None,
        on_mismatch: MismatchCallback | None = None,
        stop_rules: StopRules | None = None,
        after_start_reconcile: Callable[[], Awaitable[None]] | None = None,
        tasks: TaskSupervisor | None = None,
    ) -> None:
        """``after_start_reconcile``: awaited after each successful start-up reconciliation, before
        entries are allowed (the app re-bases the risk account there); if it raises, the start-up
        reconciliation counts as failed and is retried."""
        self.config = config or ExecutionConfig()
        self._bus = bus
        self._venue = venue
        self._clock = clock
        self.positions = PositionManager(bus, positions, fills, clock)
        self.executor = OrderExecutor(
            bus, venue, journal, self.positions, clock, self.config, plans=kv, on_mismatch=on_mismatch,
            tasks=tasks,
        )
        self.reconciler = Reconciler(self.executor, venue, self.positions, clock)
        self.monitor = PositionMonitor(bus, self.positions, self.executor, clock, stop_rules,
                                       self.config.breach_grace_s)
        self._subscription: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stream_up = False
        self._stream_drops = 0
        self._started = False
        # A self-reconnecting stream (Binance adapter) never ends its iterator: it reports
        # (re)subscriptions and its connection state instead.
        self._stream_source = user_stream_of(venue)
        self._after_start_reconcile = after_start_reconcile
        self._subscriptions_seen = 0
        self._supervisor = tasks
        self._supervised: list[str] = []

    # ---- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self.executor.block_entries(_STARTUP, "start-up reconciliation not finished")
        await self.executor.load()
        if self._stream_source is not None and not self._started:
            self._stream_source.add_resubscribe_listener(self._on_resubscribed)
        if self.config.background_tasks:
            self._run_loop(STREAM_TASK, self._consume_updates)
        await self._try_startup_reconcile()
        self._subscription = self._bus.subscribe(Topic.SIGNAL_VALIDATED, self._on_signal, name="execution.signals")
        self.monitor.start()
        if self.config.background_tasks:
            self._run_loop(TIMERS_TASK, self._timers)
        self._started = True

    async def stop(self) -> None:
        if self._subscription is not None:
            self._bus.unsubscribe(self._subscription)
            self._subscription = None
        self.monitor.stop()
        if self._supervisor is not None:
            for name in reversed(self._supervised):
                await self._supervisor.cancel(name)
            self._supervised.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.executor.close()
        self._started = False

    async def _try_startup_reconcile(self) -> bool:
        try:
            await self.reconcile("start")
            if self._after_start_reconcile is not None:
                await self._after_start_reconcile()
        except Exception as exc:  # venue down at start: stay blocked, the timer loop retries
            log.warning("start-up reconciliation failed; entries stay blocked", error=repr(exc))
            self.executor.stats.last_error = f"start-up reconciliation: {exc!r}"
            return False
        self.executor.unblock_entries(_STARTUP)
        return True

    # ---- service API --------------------------------------------------------------------------
    async def reconcile(self, reason: str = "manual") -> ReconcileResult:
        return await self.reconciler.reconcile(reason)

    async def tick(self) -> None:
        """One pass of the timers: entry timeouts, unknown outcomes, protection."""
        await self.executor.expire_entries()
        for cid in self.executor.unresolved:
            await self.executor.resolve_once(cid)
        for position in self.positions.open_positions():
            if self.executor.protection_deficit(position.id) > 0:
                await self.executor.ensure_protection(position.id)
        await self.executor.drain(timeout=1.0)

    async def submit_manual(self, intent: OrderIntent) -> Order:
        """Same path as a validated signal (the caller is responsible for risk checks)."""
        return await self.executor.submit_intent(intent)

    async def close_position(self, position_id: str) -> Order | None:
        return await self.executor.close_position(position_id)

    async def cancel_order(self, client_order_id: str) -> Order:
        return await self.executor.cancel_order(client_order_id)

    async def emergency_stop(self, reason: str = "emergency stop") -> dict[str, int]:
        result = await self.executor.emergency_stop(reason)
        await self.executor.drain()
        return result

    def resume_entries(self) -> None:
        """Lift an emergency stop or a reconciliation block (operator action)."""
        self.executor.unblock_entries("emergency")
        self.executor.unblock_entries("reconciliation")

    def health(self) -> dict[str, Any]:
        last = self.reconciler.last
        return {
            "started": self._started,
            "ready": not self.executor.block_reasons,
            "entries_blocked": self.executor.block_reasons,
            "stream_up": self.stream_connected if self.config.background_tasks else None,
            "stream_drops": self._stream_drops,
            "open_orders": len(self.executor.open_orders()),
            "open_positions": len(self.positions.open_positions()),
            "unresolved_orders": self.executor.unresolved,
            "pending_trade_detail": [detail.describe() for detail in self.executor.details.all()],
            "unprotected_positions": self.executor.unprotected_positions(),
            "last_reconcile": None if last is None else {
                "reason": last.reason, "time": last.time, "clean": last.clean, "mismatches": list(last.mismatches),
            },
            "stats": asdict(self.executor.stats),
        }

    # ---- bus ----------------------------------------------------------------------------------
    async def _on_signal(self, envelope: Envelope) -> None:
        intent: OrderIntent = envelope.payload.intent
        try:
            await self.executor.submit_intent(intent)
        except EntriesBlockedError as exc:
            await self._bus.publish(Topic.ALERT, Alert(
                AlertLevel.WARNING, "execution", f"signal {intent.signal.id} not executed: {exc}",
                {"signal_id": intent.signal.id, "symbol": intent.signal.symbol},
            ))
        except IctbotError as exc:
            await self._bus.publish(Topic.ALERT, Alert(
                AlertLevel.CRITICAL, "execution", f"signal {intent.signal.id} failed: {exc}",
                {"signal_id": intent.signal.id},
            ))

    # ---- loops --------------------------------------------------------------------------------
    async def _consume_updates(self) -> None:
        connected_before = False
        while True:
            try:
                updates = self._venue.order_updates()
                self._stream_up = True
                if connected_before:
                    # Missed events are not replayed after a reconnect: reconcile by REST.
                    self._spawn(self._reconcile_quietly("stream reconnect"))
                connected_before = True
                async for report in updates:
                    await self.executor.apply_report(report)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream must survive any adapter failure
                log.warning("order stream failed", error=repr(exc))
            self._stream_up = False
            self._stream_drops += 1
            try:
                await self.reconciler.poll_orders()
            except Exception as exc:
                log.warning("order poll failed", error=repr(exc))
            await self._clock.sleep(self.config.poll_interval_s)

    def _on_resubscribed(self) -> None:
        """The stream (re)subscribed; events before it are not replayed, so reconcile by REST.

        Also after the first subscription: the start-up reconciliation may have read the venue
        before the stream was listening."""
        self._subscriptions_seen += 1
        if self._subscriptions_seen > 1:
            self._stream_drops += 1
        reason = "stream subscribed" if self._subscriptions_seen == 1 else "stream reconnect"
        self._spawn(self._reconcile_quietly(reason))

    @property
    def stream_connected(self) -> bool:
        if self._stream_source is not None:
            return self._stream_source.connected.is_set()
        return self._stream_up

    def _run_loop(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """A long-running loop: under the supervisor when there is one (restart, ALERT, /status)."""
        if self._supervisor is None:
            self._tasks.append(asyncio.create_task(loop(), name=name))
            return
        self._supervisor.spawn(name, loop, restart_on_exit=True)
        self._supervised.append(name)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks = [task for task in self._tasks if not task.done()]
        self._tasks.append(asyncio.create_task(coro))

    async def _reconcile_quietly(self, reason: str) -> None:
        try:
            await self.reconcile(reason)
        except Exception as exc:
            log.warning("reconciliation failed", reason=reason, error=repr(exc))

    async def _timers(self) -> None:
        last_reconcile = last_poll = self._clock.now_ms()
        while True:
            await self._clock.sleep(self.config.timer_interval_s)
            try:
                if _STARTUP in self.executor.block_reasons:
                    if await self._try_startup_reconcile():
                        last_reconcile = self._clock.now_ms()
                    continue
                now = self._clock.now_ms()
                if (self._stream_source is not None and not self._stream_source.connected.is_set()
                        and now - last_poll >= self.config.poll_interval_s * 1000):
                    last_poll = now
                    await self.reconciler.poll_orders()  # the stream reconnects by itself; poll meanwhile
                await self.tick()
                if self._clock.now_ms() - last_reconcile >= self.config.reconcile_interval_s * 1000:
                    last_reconcile = self._clock.now_ms()
                    await self.reconcile("periodic")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failed pass must not end the loop
                log.warning("execution timer pass failed", error=repr(exc))
