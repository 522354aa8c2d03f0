"""Live symbol rules through the instrument catalogue, re-read from the exchange every 24 hours.

Binance changes filters while a bot runs (a new tick size, a raised minimum notional, a symbol
going to BREAK). The refresher reads ``exchangeInfo`` at start and then once per interval, hands
it to the catalogue (the one place that holds the rules), applies it to the running stages' view
from then on, and raises one WARNING ``Alert`` per changed rule so an operator sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ictbot.adapters.binance.venue import BinanceVenue
from ictbot.app.tasks import RetryPolicy
from ictbot.bus.topics import Topic
from ictbot.domain.events import Alert, AlertLevel
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.instruments import InstrumentCatalogue, RuleChange
from ictbot.ports.clock import Clock

DAY_S = 86_400.0
TASK_NAME = "instruments.refresh"
# A failed read is retried after 1 min, 2, 4, ... then hourly, for as long as it fails.
RETRY_POLICY = RetryPolicy(initial_delay=60.0, max_delay=3600.0, max_retries=None)


class _Publisher(Protocol):
    async def publish(self, topic: Topic, payload: Any) -> Any: ...


class InstrumentRefresher:
    def __init__(self, read: Callable[[], Awaitable[dict[str, Instrument]]], catalogue: InstrumentCatalogue,
                 bus: _Publisher, clock: Clock, *, market: Market, applied: dict[str, Instrument],
                 source: str = "", interval_s: float = DAY_S) -> None:
        self._read = read
        self._catalogue = catalogue
        self._bus = bus
        self._clock = clock
        self._market = market
        self._applied = applied  # the running stages' view, updated in place
        self._source = source
        self._interval_s = interval_s
        self._due = False  # a read failed: the restarted loop reads before it sleeps

    async def refresh(self) -> list[RuleChange]:
        """Read the exchange's rules now, apply them, and alert on every rule that changed."""
        found = await self._read()
        changes = self._catalogue.update_from_exchange(found, self._market, self._clock.now_ms(), self._source)
        self._applied.update(found)
        for change in changes:
            await self._bus.publish(Topic.ALERT, Alert(
                AlertLevel.WARNING, "instruments", f"exchange rule changed: {change.describe()} (applied from now on)",
                {"symbol": change.symbol, "market": change.market.value, "field": change.field,
                 "before": change.before, "after": change.after},
            ))
        return changes

    async def run(self) -> None:
        """Re-read every interval (the supervised loop); a failed read raises out of it."""
        while True:
            if not self._due:
                await self._clock.sleep(self._interval_s)
            self._due = True
            await self.refresh()
            self._due = False


def refresher_for(venue: BinanceVenue, bus: _Publisher, clock: Clock, *, applied: dict[str, Instrument]
                  ) -> InstrumentRefresher:
    """The live venue's refresher, on a catalogue of its own (exchange rules above the snapshot)."""
    endpoints = venue.client.endpoints
    source = endpoints.fapi_rest if venue.market is Market.USDM else endpoints.rest
    return InstrumentRefresher(venue.instruments, InstrumentCatalogue(), bus, clock, market=venue.market,
                               applied=applied, source=source)
