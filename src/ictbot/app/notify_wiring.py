"""Wires the trade journal and the notifier (webhook, Telegram, e-mail) into the application.

The journal always runs (it writes the log records); the notifier's channels come from the
``notifications`` config section and the environment at start (a change takes effect on the next
start; a change to the section while running raises an ALERT saying so). Telegram commands go
through the facade, like the API's.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import TYPE_CHECKING

from ictbot.app.application import Application
from ictbot.app.logsetup import REDACTOR
from ictbot.app.orchestrator import FunctionService, ServiceHealth, ServiceState
from ictbot.bus import Envelope, Subscription, Topic
from ictbot.domain.events import Alert, AlertLevel, ConfigUpdated
from ictbot.monitoring.journal import TradeJournal
from ictbot.notify.config import Secrets, effective_config
from ictbot.notify.dispatcher import failure_message
from ictbot.notify.factory import NotificationSetup, build_notifications

if TYPE_CHECKING:
    from ictbot.app.facade import PipelineFacade
    from ictbot.app.wiring import Pipeline

LISTENER_TASK = "notify.telegram_commands"


def _money(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


class FacadeCommands:
    """Telegram's /status /positions /profit /halt /resume, answered from the facade."""

    def __init__(self, facade: PipelineFacade) -> None:
        self._facade = facade

    async def status(self) -> str:
        s = await self._facade.status()
        reason = f" ({s.trading_state_reason})" if s.trading_state_reason else ""
        return (f"trading {s.trading_state.value}{reason}; {s.active_positions} open positions, "
                f"{s.pending_orders} open orders; equity {_money(s.metrics.equity)}; symbols {', '.join(s.symbols)}")

    async def positions(self) -> str:
        views = await self._facade.list_positions(False)
        if not views:
            return "no open positions"
        return "\n".join(f"{p.symbol} {p.side.value} {p.qty} @ {p.avg_entry} stop {p.stop_loss} "
                         f"unrealized {p.unrealized_pnl}" for p in views)

    async def profit(self) -> str:
        m = (await self._facade.performance()).metrics
        return (f"net P&L {_money(m.total_pnl)} (today {_money(m.daily_pnl)}); {m.trades} trades, {m.wins} won, "
                f"{m.losses} lost; equity {_money(m.equity)}")

    async def halt(self, reason: str) -> str:
        view = await self._facade.halt_trading(reason)
        return f"trading {view.state.value}: {view.reason}"

    async def resume(self) -> str:
        view = await self._facade.resume_trading()
        return f"trading {view.state.value}"


def attach_journal(application: Application, pipeline: Pipeline) -> TradeJournal:
    """Create the journal (on ``pipeline.trade_journal``); register the ``notifications`` service
    (the channels: started after risk, before execution and market data, so stopped after them and
    flushed with their last events) and the ``journal`` service (its bus subscriptions)."""
    journal = TradeJournal(application.bus, trading_state=lambda: pipeline.risk.trading_state.value)
    pipeline.trade_journal = journal
    application.register(NotificationsService(application, pipeline, journal), depends_on=["strategies"])

    async def attach() -> None:
        journal.attach()

    # Subscribed after execution, so on a validated signal the order goes out before the record is
    # written; market data waits for it, so no event is missed.
    application.register(FunctionService("journal", start=attach), depends_on=["execution", "notifications"])
    return journal


class NotificationsService:
    """The notifier's channels, built from the config and the environment at initialize."""

    name = "notifications"

    def __init__(self, application: Application, pipeline: Pipeline, journal: TradeJournal) -> None:
        self._application = application
        self._pipeline = pipeline
        self._journal = journal
        self._setup: NotificationSetup | None = None
        self._subscriptions: list[Subscription] = []

    async def initialize(self) -> None:
        from ictbot.app.facade import PipelineFacade

        section = self._application.config.document().get("notifications") or {}
        commands = FacadeCommands(PipelineFacade(self._application, self._pipeline))
        setup = build_notifications(effective_config(section, os.environ), Secrets(os.environ),
                                    on_failing=self._on_failing, commands=commands)
        REDACTOR.add(setup.secrets)
        self._journal.add_sink(setup.notifier.submit)
        self._setup = setup

    async def start(self) -> None:
        bus = self._application.bus
        self._subscriptions.append(bus.subscribe(Topic.CONFIG_UPDATED, self._on_config, name="notify.config"))
        assert self._setup is not None, "initialize() builds the channels"
        await self._setup.notifier.start(self._application.tasks)
        if self._setup.listener is not None:
            self._application.tasks.spawn(LISTENER_TASK, self._setup.listener.run, restart_on_exit=True)

    async def stop(self) -> None:
        # The journal stays on the bus until the bus stops: fills and closes during the shutdown
        # of execution (which stops before this service) still get their records.
        while self._subscriptions:
            self._application.bus.unsubscribe(self._subscriptions.pop())
        if self._setup is not None:
            if self._setup.listener is not None:
                await self._application.tasks.cancel(LISTENER_TASK)
            await self._setup.notifier.stop()

    def health(self) -> ServiceHealth:
        channels = self._setup.notifier.status() if self._setup is not None else {}
        failing = [name for name, info in channels.items() if info["failing"]]
        return ServiceHealth(ServiceState.DEGRADED if failing else ServiceState.HEALTHY,
                               f"failing: {', '.join(failing)}" if failing else "",
                               {"journal_records": self._journal.recorded, "channels": channels})

    async def _on_failing(self, channel: str, error: str) -> None:
        level, message = failure_message(channel, error)
        await self._application.bus.publish(Topic.ALERT, Alert(level, "notify", message, {"channel": channel}))

    async def _on_config(self, envelope: Envelope) -> None:
        update: ConfigUpdated = envelope.payload
        if update.section == "notifications":  # channels are built at start only: say so, don't pretend
            await self._application.bus.publish(Topic.ALERT, Alert(AlertLevel.WARNING, "notify", (
                f"notifications changed (config version {update.version}); takes effect at the next start")))
