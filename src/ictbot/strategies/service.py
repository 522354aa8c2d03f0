"""Bus shell around ``StrategyRunner``: indicators in, signals out, config and positions tracked."""

from __future__ import annotations

from ictbot.bus import Envelope, EventBus, Subscription, Topic
from ictbot.domain.errors import ConfigError
from ictbot.domain.events import (
    Alert,
    AlertLevel,
    ConfigUpdated,
    IndicatorsUpdated,
    PositionClosed,
    PositionUpdated,
    SignalGenerated,
)
from ictbot.domain.position import Position
from ictbot.strategies.base import StrategyContext
from ictbot.strategies.registry import registry_section
from ictbot.strategies.runner import StrategyRunner

CONFIG_SECTION = "strategies"
_MAX_TRACKED = 10_000


def is_newer(position: Position, known: Position | None) -> bool:
    """Whether ``position`` supersedes ``known``: updated and closed positions travel on two topics
    (two queues), so a stale "open" update may arrive after the "closed" one and must not win."""
    if known is None:
        return True
    if len(position.trade_ids) != len(known.trade_ids):
        return len(position.trade_ids) > len(known.trade_ids)
    return not (known.closed_at is not None and position.closed_at is None)


class StrategyService:
    """Subscribes to INDICATORS_UPDATED, CONFIG_UPDATED and position topics; publishes signals.

    Positions are tracked from POSITION_UPDATED / POSITION_CLOSED so that each strategy sees its
    own open positions in the context.
    """

    def __init__(self, bus: EventBus, runner: StrategyRunner, *, name: str = "strategies") -> None:
        self.bus = bus
        self.runner = runner
        self.name = name
        self._positions: dict[str, Position] = {}
        # Open positions per symbol (asked on every candle; ``_positions`` also keeps up to
        # ``_MAX_TRACKED`` closed ones to recognise late updates).
        self._open: dict[str, dict[str, Position]] = {}
        self._subscriptions: list[Subscription] = []

    def attach(self) -> None:
        """Subscribe to the bus (idempotent)."""
        if self._subscriptions:
            return
        self._subscriptions = [
            self.bus.subscribe(Topic.INDICATORS_UPDATED, self._on_indicators, name=f"{self.name}.indicators"),
            self.bus.subscribe(Topic.CONFIG_UPDATED, self._on_config, name=f"{self.name}.config"),
            self.bus.subscribe(Topic.POSITION_UPDATED, self._on_position, name=f"{self.name}.positions"),
            self.bus.subscribe(Topic.POSITION_CLOSED, self._on_position, name=f"{self.name}.closed"),
        ]

    def detach(self) -> None:
        for sub in self._subscriptions:
            self.bus.unsubscribe(sub)
        self._subscriptions = []

    def open_positions(self, symbol: str) -> tuple[Position, ...]:
        open_here = self._open.get(symbol)
        return tuple(open_here.values()) if open_here else ()

    async def _on_indicators(self, envelope: Envelope) -> None:
        payload: IndicatorsUpdated = envelope.payload
        context = StrategyContext(
            candle=payload.candle, snapshot=payload.snapshot, positions=self.open_positions(payload.snapshot.symbol)
        )
        for signal in self.runner.evaluate(context):
            await self.bus.publish(Topic.SIGNAL_GENERATED, SignalGenerated(signal))
        await self._publish_alerts()

    async def _on_config(self, envelope: Envelope) -> None:
        update: ConfigUpdated = envelope.payload
        if update.section != CONFIG_SECTION:
            return
        try:
            self.runner.registry.configure(registry_section(update.changes))
        except ConfigError as exc:
            # The config manager validates before publishing; reaching here means it did not.
            await self.bus.publish(
                Topic.ALERT,
                Alert(AlertLevel.WARNING, self.name, f"strategies config v{update.version} ignored: {exc}"),
            )

    async def _on_position(self, envelope: Envelope) -> None:
        payload: PositionUpdated | PositionClosed = envelope.payload
        position = payload.position
        if is_newer(position, self._positions.get(position.id)):
            self._positions[position.id] = position
            open_here = self._open.setdefault(position.symbol, {})
            if position.is_open:
                open_here[position.id] = position
            else:
                open_here.pop(position.id, None)
            if len(self._positions) > _MAX_TRACKED:
                # Closed positions are kept only to recognise late updates; drop the older half.
                closed = [pid for pid, p in self._positions.items() if not p.is_open]
                for pid in closed[: len(closed) // 2]:
                    del self._positions[pid]

    async def _publish_alerts(self) -> None:
        for alert in self.runner.drain_alerts():
            await self.bus.publish(Topic.ALERT, alert)
