"""Entries: a validated intent becomes one entry order (or OTOCO entry lists), idempotent per signal."""

from __future__ import annotations

from ictbot.bus import Topic
from ictbot.domain.events import AlertLevel, OrderIntent, OrderUpdated
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderRejected
from ictbot.execution.entry_lists import entry_lists
from ictbot.execution.errors import EntriesBlockedError
from ictbot.execution.executor_state import ExecutorContext
from ictbot.execution.planning import entry_order, entry_problems
from ictbot.execution.plans import Plan
from ictbot.execution.protection import Protection
from ictbot.execution.sending import Sender
from ictbot.execution.venue_ext import AccountSetupVenue, OrderListVenue


class Entries:
    """A validated intent becomes its entry order(s): at most once per signal."""

    def __init__(self, ctx: ExecutorContext, protection: Protection, sender: Sender) -> None:
        self._ctx = ctx
        self._protection = protection
        self._sender = sender
        self._submitting: dict[str, Order] = {}  # entries between their claim and their journal row
        self._account_ready: set[tuple[str, int]] = set()  # (symbol, leverage) set up on the venue

    async def submit_intent(self, intent: OrderIntent) -> Order:
        """Place the entry for a validated intent; idempotent per signal.

        Raises EntriesBlockedError while entries are refused.
        """
        signal = intent.signal
        if self._ctx.block_reasons:
            raise EntriesBlockedError("; ".join(self._ctx.block_reasons.values()))
        if self._protection.unprotected_positions():
            for position_id in self._protection.unprotected_positions():
                await self._protection.ensure_protection(position_id)
            if still := self._protection.unprotected_positions():
                raise EntriesBlockedError(f"positions without protective stop: {', '.join(still)}")
        instrument = await self._ctx.instrument(signal.symbol)
        order = entry_order(intent, instrument, self._ctx.config, self._ctx.clock.now_ms())
        cid = order.client_order_id
        pending = self._ctx.book.get(cid) or self._submitting.get(cid)
        if pending is not None:
            return pending  # the same signal again (or concurrently): never a second order
        self._submitting[cid] = order  # claimed before the first await below
        try:
            # Answered from the journal's id index (no database round trip for a new signal).
            existing = await self._ctx.journal.get(cid)
            if existing is not None:
                return existing  # seen before (maybe FILLED: Binance would accept the id again)
            return await self._submit_entry(intent, order, instrument)
        finally:
            self._submitting.pop(cid, None)

    async def _submit_entry(self, intent: OrderIntent, order: Order, instrument: Instrument) -> Order:
        signal = intent.signal
        problems = entry_problems(order, instrument, signal.reference_price)
        if problems:
            rejected = order.apply(OrderRejected("; ".join(problems), self._ctx.clock.now_ms()))
            await self._ctx.journal.save(rejected)
            self._ctx.stats.rejected += 1
            await self._ctx.bus.publish(Topic.ORDER_UPDATED, OrderUpdated(rejected))
            await self._ctx.alert(AlertLevel.WARNING, f"entry {order.client_order_id} not sent: {rejected.reason}")
            return rejected
        # Durable before the entry can fill (a restart must protect with the planned stop): the
        # plan is committed in the same transaction as the PENDING_SUBMIT order, before sending.
        plan_values = self._ctx.plans.stage(order.position_id, Plan(signal.strategy_id, signal.id, intent.stop_loss,
                                                                intent.take_profits))
        if instrument.market is Market.USDM:
            await self._setup_account(signal.symbol, intent.leverage)
        lists = entry_lists(intent, instrument, self._ctx.config, order.created_at)
        if lists and isinstance(self._ctx.venue, OrderListVenue):
            return await self._sender.send_entry_lists(lists, plan_values)
        return await self._sender.send(order, plan_values)

    async def _setup_account(self, symbol: str, leverage: int) -> None:
        if (symbol, leverage) in self._account_ready or not isinstance(self._ctx.venue, AccountSetupVenue):
            return
        margin = self._ctx.config.margin_types.get(symbol)
        if margin:
            await self._ctx.venue.set_margin_type(symbol, margin)
        await self._ctx.venue.set_leverage(symbol, leverage)
        self._account_ready.add((symbol, leverage))
