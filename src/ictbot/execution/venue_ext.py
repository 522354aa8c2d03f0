"""Optional venue capabilities beyond ``ExecutionVenue`` (checked at runtime, never required)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from ictbot.domain.order import Order
from ictbot.ports.venue import VenueOrderReport


@runtime_checkable
class AccountSetupVenue(Protocol):
    """Futures venues that let the bot choose leverage and margin type per symbol."""

    async def set_leverage(self, symbol: str, leverage: int) -> object: ...

    async def set_margin_type(self, symbol: str, margin_type: str) -> object: ...


@runtime_checkable
class ResubscribingStream(Protocol):
    """A user-data stream that reconnects by itself (the Binance adapter's). It tells us about every
    (re)subscription, so we can reconcile after one, and whether it is connected right now, so we
    can poll by REST while it is not."""

    connected: asyncio.Event

    def add_resubscribe_listener(self, listener: Callable[[], Awaitable[None] | None]) -> None: ...


def user_stream_of(venue: object) -> ResubscribingStream | None:
    """The venue itself or its ``user_stream`` attribute, if it is a self-reconnecting stream."""
    for candidate in (venue, getattr(venue, "user_stream", None)):
        if candidate is not None and isinstance(candidate, ResubscribingStream):
            return candidate
    return None


@runtime_checkable
class OrderListVenue(Protocol):
    """Spot venues that take an entry together with its protective OCO (Binance ``orderList/otoco``):
    the exchange places ``stop`` / ``target`` the moment ``entry`` is fully filled. Reports come back
    for all three orders (the pending legs as accepted)."""

    async def place_otoco(self, entry: Order, stop: Order, target: Order, list_client_id: str
                          ) -> list[VenueOrderReport]: ...
