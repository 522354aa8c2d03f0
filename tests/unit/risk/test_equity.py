from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ictbot.domain.market import Market
from ictbot.domain.position import Position
from ictbot.ports.venue import Balance, VenuePosition
from ictbot.risk.account import AccountTracker
from ictbot.risk.equity import futures_equity, restore_account, spot_equity
from tests.unit.risk.support import open_position


class FakeAccount:
    def __init__(self, balances: dict[str, Balance], prices: dict[str, Decimal],
                 positions: list[VenuePosition] | None = None) -> None:
        self._balances, self._prices, self._positions = balances, prices, positions or []

    async def balances(self) -> dict[str, Balance]:
        return self._balances

    async def positions(self) -> list[VenuePosition]:
        return self._positions

    async def prices(self) -> dict[str, Decimal]:
        return self._prices


class Book:
    def __init__(self, *positions: Position) -> None:
        self._positions = list(positions)

    async def open_positions(self) -> list[Position]:
        return self._positions


def test_spot_equity_marks_every_held_asset_and_names_the_unpriced() -> None:
    balances = {"USDT": Balance("USDT", Decimal(8_800), Decimal(100)),
                "ETH": Balance("ETH", Decimal(0), Decimal("0.5")),
                "DUST": Balance("DUST", Decimal(3), Decimal(0))}
    view = spot_equity(balances, "USDT", {"ETHUSDT": Decimal(2_000)})
    assert view.equity == Decimal(9_900) and view.holdings_value == Decimal(1_000)
    assert view.unpriced == ("DUST",)


def test_futures_equity_is_wallet_plus_unrealized() -> None:
    balances = {"USDT": Balance("USDT", Decimal(900), Decimal(100))}
    positions = [VenuePosition("BTCUSDT", Decimal("0.1"), Decimal(60_000), Decimal(-25)),
                 VenuePosition("ETHUSDT", Decimal(0), Decimal(0), Decimal(7))]  # flat rows do not count
    assert futures_equity(balances, "USDT", positions).equity == Decimal(975)


async def test_restore_sets_positions_marks_and_true_equity() -> None:
    account = AccountTracker(Decimal(0))
    position = open_position(symbol="ETHUSDT", qty="0.5", entry="1900")
    venue = FakeAccount({"USDT": Balance("USDT", Decimal(9_000), Decimal(0)),
                         "ETH": Balance("ETH", Decimal("0.5"), Decimal(0))}, {"ETHUSDT": Decimal(2_000)})
    view = await restore_account(account, venue, Book(position), market=Market.SPOT, quote="USDT")
    assert view.equity == account.equity() == Decimal(10_000)
    assert account.open_positions() == (position,) and account.marks["ETHUSDT"] == Decimal(2_000)
    account.set_mark("ETHUSDT", Decimal(2_100))  # later marks move equity by the position's P&L only
    assert account.equity() == Decimal(10_050)


async def test_restore_usdm_uses_venue_pnl() -> None:
    account = AccountTracker(Decimal(0))
    position = replace(open_position(qty="0.1", entry="60000"), market=Market.USDM)
    venue = FakeAccount({"USDT": Balance("USDT", Decimal(1_000), Decimal(0))}, {"BTCUSDT": Decimal(59_000)},
                        [VenuePosition("BTCUSDT", Decimal("0.1"), Decimal(60_000), Decimal(-100))])
    await restore_account(account, venue, Book(position), market=Market.USDM, quote="USDT")
    assert account.equity() == Decimal(900)


async def test_restore_refuses_an_open_position_without_a_price() -> None:
    venue = FakeAccount({"USDT": Balance("USDT", Decimal(1_000), Decimal(0))}, {})
    with pytest.raises(ValueError, match="no price for BTCUSDT"):
        await restore_account(AccountTracker(Decimal(0)), venue, Book(open_position()), market=Market.SPOT,
                              quote="USDT")
