"""Protection: every open position has stop orders for its full tradable quantity (spot: OCO with its
targets; USD-M: reduce-only stop and targets); stops are moved by replacing them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog

from ictbot.domain.events import AlertLevel
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import Order, OrderLeg, OrderSide
from ictbot.domain.position import Position
from ictbot.execution.attempts import AttemptNumbers, FreeBalance
from ictbot.execution.closing import Closing
from ictbot.execution.executor_state import _UNSENT, ExecutorContext
from ictbot.execution.planning import fallback_stop, futures_protection, spot_protection, tradable
from ictbot.execution.sending import Sender

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Exposure:
    """What needs a stop (``OrderExecutor._exposure``); ``reference`` prices a fallback stop."""

    symbol: str
    long: bool
    qty: Decimal
    stop: Decimal | None
    targets: tuple[Decimal, ...]
    strategy_id: str
    signal_id: str
    reference: Decimal | None
    position: Position | None


class Protection:
    """Arms, re-arms and moves the stops (and targets) of every open position."""

    def __init__(
        self, ctx: ExecutorContext, sender: Sender, closer: Closing, attempts: AttemptNumbers, balances: FreeBalance,
    ) -> None:
        self._ctx = ctx
        self._sender = sender
        self._closer = closer
        self._attempts = attempts
        self._balances = balances
        self._refused_at: dict[str, int] = {}  # position -> when the venue last refused its protection

    def note_refused(self, position_id: str) -> None:
        """The venue refused a protective order: not re-armed for ``rearm_backoff_s``."""
        self._refused_at[position_id] = self._ctx.clock.now_ms()

    def clear_refusal(self, position_id: str) -> None:
        self._refused_at.pop(position_id, None)

    def unprotected_positions(self) -> list[str]:
        """Positions with a tradable quantity no acknowledged stop covers (dust is not counted)."""
        found: list[str] = []
        for position in self._ctx.positions.open_positions():
            deficit = self._ctx.protection_deficit(position.id, confirmed=True)
            instrument = self._ctx.cached_instrument(position.symbol)
            if instrument is None or self._closer.is_closing(position.id):
                continue
            price = position.stop_loss or position.avg_entry
            if tradable(instrument.floor_qty(deficit), price, instrument):
                found.append(position.id)
        return found

    async def ensure_protection(self, position_id: str) -> bool:
        """Arm stops (and targets) for any uncovered quantity; True when the position is covered."""
        if self._closer.is_closing(position_id):
            return True
        async with self._ctx.position_lock(position_id):
            if self._closer.is_closing(position_id):
                return True
            return await self._arm(position_id)

    async def _exposure(self, position_id: str) -> _Exposure | None:
        """The quantity to protect: the open position plus executed entry quantity whose trades are
        still pending (before its first booked fill there is no position: the entry and plan say)."""
        position = self._ctx.positions.get(position_id)
        plan = await self._ctx.plan(position_id)
        unbooked = self._ctx.details.unbooked_entry_qty(position_id)
        signal_id = plan.signal_id if plan else ""
        if position is not None and position.is_open:
            return _Exposure(
                position.symbol, position.qty > 0, abs(position.qty) + unbooked,
                position.stop_loss or (plan.stop_loss if plan else None),
                position.take_profits or (plan.take_profits if plan else ()), position.strategy_id, signal_id,
                position.avg_entry, position)
        entry = next((o for o in self._ctx.open_orders(position_id) if o.leg is OrderLeg.ENTRY), None)
        if unbooked <= 0 or entry is None:
            return None
        return _Exposure(entry.symbol, entry.side is OrderSide.BUY, unbooked, plan.stop_loss if plan else None,
                         plan.take_profits if plan else (), entry.strategy_id, signal_id, entry.price, None)

    async def _arm(self, position_id: str) -> bool:
        exposure = await self._exposure(position_id)
        if exposure is None:
            return True
        rejected_at = self._refused_at.get(position_id)
        if rejected_at is not None and self._ctx.clock.now_ms() - rejected_at < self._ctx.config.rearm_backoff_s * 1000:
            return False  # the venue refused protection moments ago: do not hammer it
        instrument = await self._ctx.instrument(exposure.symbol)
        long, stop, targets, position = exposure.long, exposure.stop, exposure.targets, exposure.position
        if stop is None:
            if exposure.reference is None:
                return False
            stop = fallback_stop(exposure.reference, long, self._ctx.config.fallback_stop_fraction)
            await self._ctx.alert(AlertLevel.WARNING,
                                  f"position {position_id}: stop level unknown, using fallback {stop}")
        if position is not None and (position.stop_loss != stop or (not position.take_profits and targets)):
            await self._ctx.positions.set_protection(position_id, stop, targets)
        stop_deficit = instrument.floor_qty(self._ctx.protection_deficit(position_id))
        if instrument.market is Market.SPOT and long and stop_deficit > 0:
            if await self._release_orphan_targets(position_id):
                stop_deficit = instrument.floor_qty(self._ctx.protection_deficit(position_id))
            stop_deficit = await self._balances.cap(position_id, instrument, stop_deficit)
        covered = [o for o in self._ctx.book.values() if o.position_id == position_id]
        if not tradable(stop_deficit, stop, instrument):
            if instrument.market is Market.SPOT and long and self._orphan_targets(position_id):
                return False  # their cancel failed: the coins are still locked; the timer retries
            entry_open = any(o.leg is OrderLeg.ENTRY for o in covered)
            unprotected = not any(o.leg is OrderLeg.STOP for o in covered)
            # Nothing protects or adds to it, and all of it could not be sold (even where the books
            # hold more than the account, so the capped deficit is smaller): dust, written off.
            if (position is not None and unprotected and not entry_open
                    and not tradable(instrument.floor_qty(abs(position.qty)), stop, instrument)):
                await self._closer.write_off(position_id, "remainder below the venue's minimum order")
            return True
        attempt = await self._attempts.next_attempt(position_id, 1 + len(targets))
        now = self._ctx.clock.now_ms()
        common: dict[str, Any] = {
            "position_id": position_id, "symbol": exposure.symbol, "long": long, "stop_price": stop,
            "targets": targets, "instrument": instrument, "attempt": attempt, "now_ms": now,
            "strategy_id": exposure.strategy_id, "signal_id": exposure.signal_id,
        }
        if instrument.market is Market.USDM:
            target_cover = sum((o.remaining_qty for o in covered if o.leg is OrderLeg.TAKE_PROFIT), ZERO)
            target_qty = instrument.floor_qty(max(exposure.qty - target_cover, ZERO))
            sets = futures_protection(
                stop_qty=stop_deficit, target_qty=target_qty if tradable(target_qty, stop, instrument) else ZERO,
                **common)
        else:
            sets = spot_protection(qty=stop_deficit, config=self._ctx.config, **common)
        for protection in sets:
            await self._sender.send_set(protection)
        return self._ctx.protection_deficit(position_id) == 0

    def _orphan_targets(self, position_id: str) -> list[Order]:
        """Resting spot targets whose OCO has lost its stop (Binance expires the stop leg once the
        target trades): they lock coins no exchange stop covers."""
        live_stops = {o.list_id for o in self._ctx.book.values()
                      if o.position_id == position_id and o.leg is OrderLeg.STOP and o.status.is_open}
        return [o for o in self._ctx.book.values()
                if o.position_id == position_id and o.leg is OrderLeg.TAKE_PROFIT and o.status.is_open
                and o.status not in _UNSENT and o.client_order_id not in self._ctx.inflight
                and not (o.list_id and o.list_id in live_stops)]

    async def _release_orphan_targets(self, position_id: str) -> bool:
        """Cancel the position's orphan targets so that their coins can carry a new stop: the caller
        re-arms the whole remainder as a new OCO (stop + targets). True when one was cancelled."""
        orphans = self._orphan_targets(position_id)
        for target in orphans:
            log.warning("target without its stop leg: cancelling it to re-arm the remainder as a new OCO",
                        client_order_id=target.client_order_id, filled=str(target.filled_qty))
            await self._closer.cancel(target, "re-armed with a stop: its OCO stop leg expired")
        return bool(orphans)

    async def move_stop(self, position_id: str, new_stop: Decimal) -> None:
        """Replace the position's stop orders at ``new_stop`` (breakeven / trailing)."""
        if self._closer.is_closing(position_id):
            return
        async with self._ctx.position_lock(position_id):
            position = self._ctx.positions.get(position_id)
            if position is None or self._closer.is_closing(position_id):
                return
            await self._ctx.positions.set_protection(position_id, new_stop, position.take_profits)
            instrument = await self._ctx.instrument(position.symbol)
            stops = [o for o in self._ctx.open_orders(position_id) if o.leg is OrderLeg.STOP]
            if instrument.market is Market.USDM:
                # Reduce-only stops can overlap: arm the new one first, then drop the old ones.
                fresh = await self._attempts.next_attempt(position_id, 1)
                qty = instrument.floor_qty(abs(position.qty))
                for protection in futures_protection(
                    position_id=position_id, symbol=position.symbol, long=position.qty > 0, stop_qty=qty,
                    target_qty=ZERO, stop_price=new_stop, targets=(), instrument=instrument, attempt=fresh,
                    now_ms=self._ctx.clock.now_ms(), strategy_id=position.strategy_id,
                ):
                    await self._sender.send_set(protection)
                for order in stops:
                    await self._closer.cancel(order, "stop moved")
                return
            # Spot: the base coins are locked by the OCO; cancel (the whole list), then re-arm.
            for order in stops:
                await self._closer.cancel(order, "stop moved")
            await self._arm(position_id)
