"""Two small services protection and closing share: attempt numbers for new protective and exit
orders (never an id seen before), and the cap of a spot sell to the coins the account holds free."""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.errors import FinalError, RetryableError
from ictbot.domain.events import AlertLevel
from ictbot.domain.instrument import Instrument
from ictbot.domain.money import ZERO
from ictbot.domain.order import OrderLeg
from ictbot.execution.executor_state import _SEEN_IDS_KEPT, ExecutorContext, _remember
from ictbot.execution.ids import leg_client_id


class AttemptNumbers:
    """Binance ids are unique only among open orders: a fresh attempt number is one never seen in
    the book, the journal or any venue report."""

    def __init__(self, ctx: ExecutorContext) -> None:
        self._ctx = ctx
        self._last_attempt: dict[str, int] = {}  # a hint only (the journal is checked): pruned like seen ids

    async def next_attempt(self, position_id: str, count: int) -> int:
        """Unique attempt numbers for new protective/exit orders (seconds-based, journal-checked)."""
        attempt = max((self._ctx.clock.now_ms() // 1000) % 900_000, self._last_attempt.get(position_id, -1) + 1)
        while await self._attempt_taken(position_id, attempt, count):
            attempt += count
        _remember(self._last_attempt, position_id, attempt + count - 1, _SEEN_IDS_KEPT)
        return attempt

    async def _attempt_taken(self, position_id: str, attempt: int, count: int) -> bool:
        for n in range(attempt, attempt + count):
            for leg in (OrderLeg.STOP, OrderLeg.TAKE_PROFIT, OrderLeg.EXIT):
                cid = leg_client_id(position_id, leg, n)
                if cid in self._ctx.book or cid in self._ctx.seen_ids or await self._ctx.journal.holds(cid):
                    return True
        return False


class FreeBalance:
    def __init__(self, ctx: ExecutorContext) -> None:
        self._ctx = ctx

    async def cap(
        self, position_id: str, instrument: Instrument, qty: Decimal, *, market_order: bool = False
    ) -> Decimal:
        """Spot sells can only use coins the account holds free: a fee or fill the books did not
        see exactly must not make every protective order fail for insufficient balance."""
        try:
            balances = await self._ctx.venue.balances()
        except (RetryableError, FinalError):
            return qty
        held = balances.get(instrument.base_asset)
        free = instrument.floor_qty(held.free if held is not None else ZERO, market_order=market_order)
        if free >= qty:
            return qty
        await self._ctx.alert(AlertLevel.WARNING, f"position {position_id}: needs {qty} {instrument.base_asset} "
                              f"but only {free} is free on the venue; using what is there")
        return free
