"""Registers each built stage of the pipeline with the orchestrator as a service.

Each stage's start, stop and health, and what it depends on: the database before the exchange,
the exchange (rules, time, warm-up) before candles → indicators → strategies → risk → execution,
market data last (so no candle arrives before every stage listens), monitoring beside them. The
orchestrator starts them in that order and stops them in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ictbot.app.application import Application
from ictbot.app.health import watch_closed_candles
from ictbot.app.instrument_refresh import RETRY_POLICY as REFRESH_RETRY_POLICY
from ictbot.app.instrument_refresh import TASK_NAME as REFRESH_TASK
from ictbot.app.instrument_refresh import refresher_for
from ictbot.app.orchestrator import FunctionService, ServiceHealth, ServiceState
from ictbot.app.retention import retention_loop
from ictbot.app.warmup import warm_up
from ictbot.bus import Subscription
from ictbot.strategies.registry import registry_section

if TYPE_CHECKING:
    from ictbot.app.wiring import Pipeline

RISK_POLL_TASK = "risk.poll"
RETENTION_TASK = "database.retention"


def register_stages(application: Application, p: Pipeline, warmup_candles: int) -> None:
    """Register every stage (registration order breaks ties in the start order)."""
    _register_database(application, p)
    _register_exchange(application, p, warmup_candles)
    _register_signal_stages(application, p)
    _register_risk(application, p)
    _register_execution(application, p)
    _register_monitoring(application, p)


def _service(
    name: str,
    start: Callable[[], Awaitable[None]] | None = None,
    stop: Callable[[], Awaitable[None]] | None = None,
    health: Callable[[], ServiceHealth] | None = None,
    initialize: Callable[[], Awaitable[None]] | None = None,
) -> FunctionService:
    return FunctionService(name, initialize=initialize, start=start, stop=stop, health=health)


def _ok(data: dict[str, Any]) -> ServiceHealth:
    return ServiceHealth(ServiceState.HEALTHY, "", data)


def _register_database(application: Application, p: Pipeline) -> None:
    async def db_init() -> None:
        p.database.upgrade()
        days = p.settings.retention_days
        if days > 0:
            application.tasks.spawn(RETENTION_TASK, lambda: retention_loop(p.database, p.clock, days),
                                    restart_on_exit=True)

    async def db_stop() -> None:
        await p.database.close()

    application.register(_service("database", initialize=db_init, stop=db_stop), depends_on=["config"])


def _register_exchange(application: Application, p: Pipeline, warmup_candles: int) -> None:
    # The exchange's rules go through the catalogue; re-read every 24 h, a changed rule is an ALERT.
    refresher = refresher_for(p.venue, application.bus, p.clock, applied=p.instruments)

    async def exchange_start() -> None:
        await p.venue.client.sync_time()
        await refresher.refresh()
        application.tasks.spawn(REFRESH_TASK, refresher.run, policy=REFRESH_RETRY_POLICY)
        missing = [s for s in p.symbols if s not in p.instruments]
        if missing:
            raise ValueError(f"exchange does not list {', '.join(missing)}")
        await warm_up(p, warmup_candles)
        # The account itself is read once, after the start reconciliation (execution start).

    async def exchange_stop() -> None:
        await application.tasks.cancel(REFRESH_TASK)
        stream = getattr(p.venue, "user_stream", None)
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.stop()
        with contextlib.suppress(Exception):
            await p.venue.client.aclose()

    application.register(_service("exchange", start=exchange_start, stop=exchange_stop),
                         depends_on=["database", "event_bus"])


def _register_signal_stages(application: Application, p: Pipeline) -> None:
    """Candles → indicators → strategies."""

    async def candles_start() -> None:
        await p.candles.warm_up(list(p.symbols))
        await p.candles.start()

    application.register(_service("candles", start=candles_start, stop=p.candles.stop,
                                  health=lambda: _ok(p.candles.stats_dict())),
                         depends_on=["exchange"])

    async def indicators_start() -> None:
        p.indicators.start()

    async def indicators_stop() -> None:
        p.indicators.stop()

    application.register(_service("indicators", start=indicators_start, stop=indicators_stop,
                                  health=lambda: _ok({"snapshots": p.indicators.published})),
                         depends_on=["candles"])

    async def strategies_start() -> None:
        p.registry.configure(registry_section(application.config.document()["strategies"]))
        p.strategies.attach()

    async def strategies_stop() -> None:
        p.strategies.detach()

    application.register(_service("strategies", start=strategies_start, stop=strategies_stop,
                                  health=lambda: _ok({"enabled": [s.id for s in p.registry.status() if s.enabled]})),
                         depends_on=["indicators"])


def _register_risk(application: Application, p: Pipeline) -> None:
    async def risk_poll_loop() -> None:
        # A stale feed produces no candles, so staleness and the UTC day change are polled.
        while True:
            await p.risk.poll()
            await asyncio.sleep(2.0)

    async def risk_start() -> None:
        await p.breakers.load()
        p.risk.defer_equity_observation()  # until the account is re-based after the start reconciliation
        p.risk.attach()
        application.tasks.spawn(RISK_POLL_TASK, risk_poll_loop, restart_on_exit=True)

    async def risk_stop() -> None:
        p.risk.detach()

    def risk_health() -> ServiceHealth:
        state = p.risk.trading_state.value
        healthy = state == "ACTIVE"
        return ServiceHealth(ServiceState.HEALTHY if healthy else ServiceState.DEGRADED,
                               "" if healthy else f"trading {state}", {"trading_state": state})

    application.register(_service("risk", start=risk_start, stop=risk_stop, health=risk_health),
                         depends_on=["strategies"])


def _register_execution(application: Application, p: Pipeline) -> None:
    """Execution, then market data (which waits for every stage and the journal to listen)."""

    def execution_health() -> ServiceHealth:
        data = p.execution.health()
        blocked = data["entries_blocked"]
        problems = [f"entries blocked: {', '.join(blocked.values())}"] if blocked else []
        if data["unprotected_positions"]:
            problems.append(f"unprotected positions: {', '.join(data['unprotected_positions'])}")
        state = ServiceState.DEGRADED if problems else ServiceState.HEALTHY
        return ServiceHealth(state, "; ".join(problems), {"open_orders": data["open_orders"],
                                                            "open_positions": data["open_positions"]})

    application.register(_service("execution", start=p.execution.start, stop=p.execution.stop,
                                  health=execution_health), depends_on=["risk"])

    def market_health() -> ServiceHealth:
        stale = p.market_data.data_stale
        return ServiceHealth(ServiceState.DEGRADED if stale else ServiceState.HEALTHY,
                               "market data stale" if stale else "",
                               {"candles": p.market_data.published_closed})

    application.register(_service("market_data", start=p.market_data.start, stop=p.market_data.stop,
                                  health=market_health), depends_on=["execution", "candles", "journal"])


def _register_monitoring(application: Application, p: Pipeline) -> None:
    bus = application.bus
    health_subscription: list[Subscription] = []

    async def monitoring_start() -> None:
        p.collector.attach(bus)
        health_subscription.append(watch_closed_candles(application, p.health))
        p.monitoring.start(application.tasks)

    async def monitoring_stop() -> None:
        await p.monitoring.stop()
        p.collector.detach()
        while health_subscription:
            bus.unsubscribe(health_subscription.pop())

    application.register(_service("monitoring", start=monitoring_start, stop=monitoring_stop),
                         depends_on=["event_bus"])
