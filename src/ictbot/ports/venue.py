from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ictbot.domain.instrument import Instrument
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill, Order, OrderSide, OrderStatus, OrderType


@dataclass(frozen=True, slots=True)
class VenueOrderReport:
    """The exchange's view of one order, from a REST reply, a query or a stream event."""

    client_order_id: str
    symbol: str
    status: OrderStatus
    exchange_order_id: str | None = None
    executed_qty: Decimal = ZERO
    cumulative_quote: Decimal = ZERO
    fills: tuple[Fill, ...] = ()
    time: int = 0
    reason: str = ""
    list_client_id: str = ""
    # The order's own terms, when the venue reports them (queries, open orders, stream events).
    # Reconciliation needs them to adopt an order it has no journal entry for (crash recovery).
    side: OrderSide | None = None
    type: OrderType | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """Futures position as the exchange reports it (spot has none)."""

    symbol: str
    qty: Decimal
    entry_price: Decimal
    unrealized_pnl: Decimal = ZERO
    leverage: int = 1


class ExecutionVenue(Protocol):
    """Where orders go: the Binance adapter (live, testnet, simulator) or the in-process paper venue.

    ``place_order`` raises ``ictbot.domain.errors.NetworkError`` when the outcome is unknown and a
    ``FinalError`` subclass when the exchange refused the order.
    """

    async def instruments(self) -> dict[str, Instrument]: ...

    async def place_order(self, order: Order) -> VenueOrderReport: ...

    async def place_oco(self, stop: Order, target: Order, list_client_id: str) -> list[VenueOrderReport]: ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrderReport: ...

    async def query_order(self, symbol: str, client_order_id: str) -> VenueOrderReport | None: ...

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderReport]: ...

    async def trades(self, symbol: str, since_ms: int | None = None) -> list[Fill]: ...

    async def balances(self) -> dict[str, Balance]: ...

    async def positions(self) -> list[VenuePosition]: ...

    def order_updates(self) -> AsyncIterator[VenueOrderReport]: ...
