"""PositionMonitor: marks positions to market on every price, moves stops, enforces exits.

Prices come from KLINE_UPDATED (live bar updates) and CANDLE_STORED (closed bars). Only the latest
price matters, so both subscriptions drop the oldest queued update under load.

If a stop (or the last target) has been passed for ``breach_grace_s`` and the position is still
open, the exchange-side order did not do its job (a STOP_LOSS_LIMIT skipped over, a rejected
trigger): the position is closed at market.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any, Protocol

import structlog

from ictbot.bus import BackpressurePolicy, Envelope, EventBus, Subscription, Topic
from ictbot.domain.market import Market
from ictbot.ports.clock import Clock
from ictbot.positions.errors import PositionError
from ictbot.positions.manager import PositionManager
from ictbot.positions.rules import StopRules, breached, next_stop

log = structlog.get_logger(__name__)


class ProtectionController(Protocol):
    """What the monitor needs from execution (the OrderExecutor satisfies it)."""

    async def move_stop(self, position_id: str, new_stop: Decimal) -> None: ...

    async def close_position(self, position_id: str, reason: str = ...) -> Any: ...


class PositionMonitor:
    def __init__(
        self,
        bus: EventBus,
        manager: PositionManager,
        controller: ProtectionController,
        clock: Clock,
        rules: StopRules | None = None,
        breach_grace_s: float = 10.0,
    ) -> None:
        self._bus = bus
        self._manager = manager
        self._controller = controller
        self._clock = clock
        self.rules = rules or StopRules()
        self._grace_ms = int(breach_grace_s * 1000)
        self._initial_risk: dict[str, Decimal] = {}
        self._breach_since: dict[str, int] = {}
        self._subs: list[Subscription] = []

    def start(self) -> None:
        for topic in (Topic.KLINE_UPDATED, Topic.CANDLE_STORED):
            self._subs.append(self._bus.subscribe(
                topic, self._on_candle, name=f"positions.monitor.{topic.value}", maxsize=1000,
                policy=BackpressurePolicy.DROP_OLDEST,
            ))

    def stop(self) -> None:
        for sub in self._subs:
            self._bus.unsubscribe(sub)
        self._subs.clear()

    async def _on_candle(self, envelope: Envelope) -> None:
        candle = envelope.payload.candle
        await self.on_price(candle.symbol, candle.close, candle.market)

    async def on_price(self, symbol: str, price: Decimal, market: Market | None = None) -> None:
        self._forget_closed()
        for position in await self._manager.mark(symbol, price, market):
            if position.stop_loss is not None:
                risk = self._initial_risk.setdefault(position.id, abs(position.avg_entry - position.stop_loss))
                proposed = next_stop(position, price, risk, self.rules)
                if proposed is not None:
                    log.info("moving stop", position=position.id, stop=str(proposed))
                    await self._controller.move_stop(position.id, proposed)
            await self._check_breach(position.id, price)

    def _forget_closed(self) -> None:
        """Drop the initial risk of positions no longer open (the manager holds every open one): the
        map held one entry per position ever traded. An open position's entry is never dropped: it
        cannot be recomputed once the stop has moved."""
        if len(self._initial_risk) <= len(self._manager.open_positions()):
            return
        for position_id in [pid for pid in self._initial_risk if self._manager.get(pid) is None]:
            del self._initial_risk[position_id]

    async def _check_breach(self, position_id: str, price: Decimal) -> None:
        position = self._manager.get(position_id)
        reason = breached(position, price) if position is not None else None
        if reason is None:
            self._breach_since.pop(position_id, None)
            return
        now = self._clock.now_ms()
        since = self._breach_since.setdefault(position_id, now)
        if now - since < self._grace_ms:
            return
        self._breach_since.pop(position_id, None)
        log.warning("protection did not execute; closing at market", position=position_id, reason=reason)
        with contextlib.suppress(PositionError):  # closed meanwhile
            await self._controller.close_position(position_id, f"emergency: {reason}, not filled in time")
