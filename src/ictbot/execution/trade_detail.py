"""Executions whose trade details the venue has not given yet ("pending trade detail").

A venue report can say an order executed some quantity while the trade lookup (``myTrades``)
fails: a rate limit, a 5xx, a clock offset. That quantity is never booked under an invented trade
id — the real trades would show up later (at the next reconciliation) as unknown fills of a filled
order, i.e. a false mismatch that halts trading. Instead the order stays open in the journal, a
pending record is kept (persisted, so a restart still knows), new entries are refused, and the
lookup is retried with backoff until the real trades arrive; the reconciler finds them too.
An entry's pending quantity is protected meanwhile: the executor arms a stop for it as if it were
in the position (``PendingDetails.unbooked_entry_qty``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import structlog

from ictbot.domain.money import ZERO
from ictbot.domain.order import OrderLeg
from ictbot.execution.ids import parse_client_id
from ictbot.ports.repositories import KeyValueStore

log = structlog.get_logger(__name__)

STORE_KEY = "execution.pending_trade_detail"
BLOCK_PREFIX = "trade-detail:"


@dataclass(frozen=True, slots=True)
class PendingDetail:
    client_order_id: str
    symbol: str
    missing_qty: Decimal  # executed on the venue, not yet explained by a known trade
    since: int  # when first noticed (ms, our clock)

    def describe(self) -> str:
        return f"{self.client_order_id}: {self.missing_qty} {self.symbol} executed, trade detail pending"


def backoff_delays(first_s: float, cap_s: float) -> Iterator[float]:
    """first, 2×first, 4×first … capped at ``cap_s``, forever (the caller stops when resolved)."""
    delay = first_s
    while True:
        yield delay
        delay = min(delay * 2, cap_s)


class PendingDetails:
    """The pending records, persisted as one JSON document in the key-value store."""

    def __init__(self, store: KeyValueStore | None) -> None:
        self._store = store
        self._pending: dict[str, PendingDetail] = {}

    def get(self, client_order_id: str) -> PendingDetail | None:
        return self._pending.get(client_order_id)

    def all(self) -> list[PendingDetail]:
        return list(self._pending.values())

    def missing(self, client_order_id: str) -> Decimal:
        found = self._pending.get(client_order_id)
        return found.missing_qty if found is not None else ZERO

    def unbooked_entry_qty(self, position_id: str) -> Decimal:
        """Entry quantity of ``position_id`` the venue executed but the position does not hold yet
        (its trades are pending): it needs a stop all the same."""
        total = ZERO
        for detail in self._pending.values():
            parsed = parse_client_id(detail.client_order_id)
            if parsed is not None and parsed[0] == position_id and parsed[1] is OrderLeg.ENTRY:
                total += detail.missing_qty
        return total

    async def load(self) -> list[PendingDetail]:
        raw = await self._store.get(STORE_KEY) if self._store is not None else None
        if raw:
            try:
                rows = json.loads(raw)
                self._pending = {
                    row["client_order_id"]: PendingDetail(row["client_order_id"], row["symbol"],
                                                          Decimal(row["missing_qty"]), int(row["since"]))
                    for row in rows
                }
            except (ValueError, KeyError, TypeError) as exc:
                # The journal still holds the orders open, so reconciliation completes them anyway.
                log.warning("unreadable pending trade details ignored", error=str(exc))
                self._pending = {}
        return self.all()

    async def hold(self, detail: PendingDetail) -> bool:
        """Record (or update) a pending detail; True when the order was not pending before."""
        known = self._pending.get(detail.client_order_id)
        if known is not None and known.missing_qty == detail.missing_qty:
            return False
        self._pending[detail.client_order_id] = detail if known is None else PendingDetail(
            detail.client_order_id, detail.symbol, detail.missing_qty, known.since)
        await self._save()
        return known is None

    async def resolve(self, client_order_id: str) -> bool:
        if self._pending.pop(client_order_id, None) is None:
            return False
        await self._save()
        return True

    async def _save(self) -> None:
        if self._store is None:
            return
        rows = [{"client_order_id": d.client_order_id, "symbol": d.symbol, "missing_qty": str(d.missing_qty),
                 "since": d.since} for d in self._pending.values()]
        await self._store.set(STORE_KEY, json.dumps(rows, sort_keys=True))
