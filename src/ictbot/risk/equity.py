"""Account equity read from the exchange, and re-basing the risk account on it at start.

Spot: the quote balance plus every other held asset valued at its ``<asset><quote>`` price (an open
spot position *is* a base-asset holding, so counting only the quote balance turns it into a loss).
USD-M: the quote wallet balance plus the unrealised P&L of every venue position.

Equity is computed once from a complete view before any breaker sees it: a failed read, or an open
position without a price, raises instead of producing a partial figure. Held assets the exchange
has no ``<asset><quote>`` price for (dust of delisted coins) are left out and named in the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import structlog

from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.position import Position
from ictbot.ports.venue import Balance, VenuePosition
from ictbot.risk.account import AccountTracker

log = structlog.get_logger(__name__)


class AccountSource(Protocol):
    """What the start-up equity needs from the venue (``BinanceVenue`` implements it)."""

    async def balances(self) -> dict[str, Balance]: ...

    async def positions(self) -> list[VenuePosition]: ...

    async def prices(self) -> dict[str, Decimal]: ...


class OpenPositions(Protocol):
    async def open_positions(self) -> list[Position]: ...


@dataclass(frozen=True, slots=True)
class EquityView:
    """Equity and how it was made up (for the log line and the tests)."""

    equity: Decimal
    quote_balance: Decimal
    holdings_value: Decimal  # spot: other assets at their price
    unrealized_pnl: Decimal  # USD-M: venue positions
    unpriced: tuple[str, ...] = ()  # held assets with no <asset><quote> price (not counted)


def spot_equity(balances: Mapping[str, Balance], quote: str, prices: Mapping[str, Decimal]) -> EquityView:
    """Quote balance + every other asset's balance at its ``<asset><quote>`` price."""
    cash = balances[quote].total if quote in balances else ZERO
    value = ZERO
    unpriced: list[str] = []
    for asset, balance in sorted(balances.items()):
        if asset == quote or balance.total == 0:
            continue
        price = prices.get(asset + quote)
        if price is None or price <= 0:
            unpriced.append(asset)
            continue
        value += balance.total * price
    return EquityView(cash + value, cash, value, ZERO, tuple(unpriced))


def futures_equity(balances: Mapping[str, Balance], quote: str, positions: Sequence[VenuePosition]) -> EquityView:
    """Wallet balance of the quote asset + unrealised P&L of every open venue position."""
    wallet = balances[quote].total if quote in balances else ZERO
    unrealized = sum((p.unrealized_pnl for p in positions if p.qty != 0), ZERO)
    return EquityView(wallet + unrealized, wallet, ZERO, unrealized)


async def venue_equity(venue: AccountSource, market: Market, quote: str) -> tuple[EquityView, dict[str, Decimal]]:
    """The account's equity now, and the prices it was marked at (symbol -> price)."""
    balances = await venue.balances()
    prices = await venue.prices()
    if market is Market.USDM:
        return futures_equity(balances, quote, await venue.positions()), prices
    return spot_equity(balances, quote, prices), prices


async def restore_account(
    account: AccountTracker, venue: AccountSource, positions: OpenPositions, *, market: Market, quote: str,
    when: str = "start",
) -> EquityView:
    """Seed the risk account after a (re)start: the bot's open positions at current prices, and its
    base re-set so that equity equals what the exchange holds. Call before the breakers observe
    anything, so a restart never looks like a loss, and again once the start reconciliation has
    applied the fills made while the bot was down: the balances already contain them, so the
    positions read the first time may be stale (an exit's P&L would be counted twice)."""
    view, prices = await venue_equity(venue, market, quote)
    for position in await positions.open_positions():
        if position.is_open and position.symbol not in prices:
            raise ValueError(f"equity at start: no price for {position.symbol} (open position {position.id})")
        account.apply(position, prices.get(position.symbol))
    account.set_equity(view.equity)
    log.info("equity restored from the exchange", when=when, equity=str(view.equity), quote=str(view.quote_balance),
             holdings=str(view.holdings_value), unrealized=str(view.unrealized_pnl),
             open_positions=len(account.open_positions()), unpriced=",".join(view.unpriced))
    return view
