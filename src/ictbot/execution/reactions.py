"""Reactions to an order's change: protect what filled, flatten when a stop is refused, forget a plan
whose entry never filled, cancel leftovers of a closed position (reconciliation of intent with state)."""

from __future__ import annotations

import structlog

from ictbot.domain.events import AlertLevel
from ictbot.domain.order import Fill, Order, OrderLeg, OrderStatus
from ictbot.execution.closing import Closing
from ictbot.execution.executor_state import _PROTECTIVE, LOST_REASON, ExecutorContext
from ictbot.execution.ids import is_entry_list
from ictbot.execution.protection import Protection

log = structlog.get_logger(__name__)

_MAX_EXIT_FAILURES = 3

_PASSED_LEG_TEXTS = ("relationship of the prices", "would immediately match and take", "would trigger immediately")


def market_passed_a_leg(reason: str) -> bool:
    lowered = reason.lower()
    return any(text in lowered for text in _PASSED_LEG_TEXTS)


class Reactions:
    """What an order's change triggers (the venue reports' ``ChangeListener``)."""

    def __init__(self, ctx: ExecutorContext, protection: Protection, closer: Closing) -> None:
        self._ctx = ctx
        self._protection = protection
        self._closer = closer
        self._exit_failures: dict[str, int] = {}  # rejected exits in a row, per position being closed
        self._gave_up: set[str] = set()  # flattening failed repeatedly: protection only, retried slowly

    async def after_change(self, before: Order, after: Order, fills: list[Fill], *, published: bool = False) -> None:
        """React to a committed change; ``published``: its ORDER_* events went out already."""
        if not published:
            await self._ctx.publish_change(after, fills)
        pid = after.position_id
        if not pid:
            return
        if self._entry_list_leg_refused(after):
            return
        if after.status is OrderStatus.REJECTED and after.leg in _PROTECTIVE and after.reason != LOST_REASON:
            self._protection.note_refused(pid)
            if after.leg is OrderLeg.STOP and pid not in self._gave_up and self._ctx.positions.get(pid) is not None:
                passed = market_passed_a_leg(after.reason)
                await self._ctx.alert(
                    AlertLevel.WARNING if passed else AlertLevel.CRITICAL,
                    f"position {pid}: the market is already beyond its stop or target ({after.reason}); exiting "
                    "at market" if passed else
                    f"stop {after.client_order_id} rejected ({after.reason}); flattening position {pid}")
                reason = "market beyond a protective leg" if passed else "protective stop rejected"
                self._ctx.spawn(self._closer.close_quietly(pid, reason))
            return
        if after.leg in _PROTECTIVE and after.status is OrderStatus.NEW:
            self._gave_up.discard(pid)
            self._protection.clear_refusal(pid)
        if (after.leg is OrderLeg.ENTRY and after.status.is_terminal and after.filled_qty == 0
                and self._ctx.positions.get(pid) is None
                and not any(o.leg is OrderLeg.ENTRY for o in self._ctx.open_orders(pid))):  # other tranches
            await self._ctx.forget_plan(pid)
        position = self._ctx.positions.get(pid)
        if position is None:
            self._closer.stop_closing(pid)
            self._exit_failures.pop(pid, None)
            self._gave_up.discard(pid)
            self._protection.clear_refusal(pid)
            if fills or after.status.is_terminal:
                self._ctx.spawn(self._closer.cancel_position_orders(pid, "position closed"))
            return
        if self._closer.is_closing(pid):
            if after.leg is OrderLeg.EXIT and after.status is OrderStatus.REJECTED:
                failures = self._exit_failures[pid] = self._exit_failures.get(pid, 0) + 1
                if failures >= _MAX_EXIT_FAILURES:
                    # Give up flattening for now: re-arm protection rather than hammer the venue;
                    # a rejected re-arm no longer flattens (that would loop) but is retried slowly.
                    self._closer.stop_closing(pid)
                    self._exit_failures.pop(pid, None)
                    self._gave_up.add(pid)
                    await self._ctx.alert(AlertLevel.CRITICAL, f"position {pid}: {failures} exit orders rejected "
                                          f"({after.reason}); protection re-armed, manual action needed")
                    self._ctx.spawn(self._protection.ensure_protection(pid))
                    return
            if (fills and after.leg is OrderLeg.ENTRY) or (after.leg is OrderLeg.EXIT and after.status.is_terminal):
                self._ctx.spawn(self._closer.close_quietly(pid, "remainder after close"))
            return
        target = after.price if after.price is not None else after.stop_price  # LIMIT_MAKER / *_MARKET
        if after.leg is OrderLeg.TAKE_PROFIT and after.status is OrderStatus.FILLED and target is not None:
            instrument = await self._ctx.instrument(after.symbol)
            remaining = tuple(t for t in position.take_profits if instrument.round_price(t) != target)
            await self._ctx.positions.set_protection(pid, position.stop_loss, remaining)
        if fills or after.status.is_terminal:
            self._ctx.spawn(self._protection.ensure_protection(pid))

    def _entry_list_leg_refused(self, after: Order) -> bool:
        """A pending leg of an OTOCO entry refused (e.g. a later tranche's list, or a pair the exchange
        could not place at the fill): nothing was refused that the bot cannot place itself, so the
        position is protected the plain way instead of flattened. True when handled here."""
        pid = after.position_id
        refused = after.status is OrderStatus.REJECTED and after.leg in _PROTECTIVE
        if not (refused and is_entry_list(after.list_id) and self._ctx.positions.get(pid) is not None):
            return False
        log.warning("entry list leg refused; protecting the plain way", client_order_id=after.client_order_id,
                    reason=after.reason)
        self._ctx.spawn(self._protection.ensure_protection(pid))
        return True
