"""USD-M equity at start, read from the simulator's futures API: wallet + unrealised P&L (issue #16.1)."""

from __future__ import annotations

from decimal import Decimal

from ictbot.adapters.binance import BinanceConfig, build_venue
from ictbot.app.binance_wiring import PAPER_API_KEY, PAPER_SECRET
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderSide, OrderType
from ictbot.domain.position import Position
from ictbot.risk.account import AccountTracker
from ictbot.risk.equity import restore_account
from tests.integration.risk.restart_support import simulator


class Book:
    def __init__(self, *positions: Position) -> None:
        self._positions = list(positions)

    async def open_positions(self) -> list[Position]:
        return self._positions


async def test_usdm_equity_is_wallet_plus_unrealized_of_the_open_position() -> None:
    sim = simulator()
    await sim.start()
    venue = build_venue(BinanceConfig(environment="local", local_port=sim.port, api_key=PAPER_API_KEY,
                                      api_secret=PAPER_SECRET, market=Market.USDM), clock=sim.clock)
    try:
        await sim.control.step(1)
        qty = Decimal("0.05")
        report = await venue.place_order(Order("ict-usdm-equity-1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, qty,
                                               sim.clock.now_ms(), market=Market.USDM))
        entry = report.cumulative_quote / report.executed_qty
        await sim.control.step(6)  # the price moves: the position has a P&L

        ours = Position(id="p-usdm", symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", market=Market.USDM,
                        qty=qty, avg_entry=entry, trade_ids=frozenset({"t1"}), opened_at=1, entry_qty_total=qty)
        account = AccountTracker(Decimal(0))
        view = await restore_account(account, venue, Book(ours), market=Market.USDM, quote="USDT")

        [venue_position] = sim.control.positions(PAPER_API_KEY)
        truth = sim.control.futures_wallet(PAPER_API_KEY)["USDT"] + venue_position.unrealized_pnl
        assert venue_position.unrealized_pnl != 0
        assert view.equity == truth and account.equity() == truth
        assert account.open_positions() == (ours,)
    finally:
        await venue.client.aclose()
        await sim.stop()


async def test_usdm_exit_filled_while_down_is_counted_once_after_the_rebase() -> None:
    """The restart sequence on USD-M: restore from a stale book (the position the exchange already
    closed is still open in it), the start reconciliation's close reaches the account (its realized
    P&L is folded in although the wallet already holds it), and the re-base after the reconciliation
    brings equity back to the exchange's wallet."""
    sim = simulator()
    await sim.start()
    venue = build_venue(BinanceConfig(environment="local", local_port=sim.port, api_key=PAPER_API_KEY,
                                      api_secret=PAPER_SECRET, market=Market.USDM), clock=sim.clock)
    try:
        await sim.control.step(1)
        qty = Decimal("0.05")
        await venue.place_order(Order("ict-usdm-down-1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, qty,
                                      sim.clock.now_ms(), market=Market.USDM))
        position = Position(id="p-usdm-down", symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
                            market=Market.USDM)
        for fill in await venue.trades("BTCUSDT"):
            position = position.apply(fill)
        await sim.control.step(3)
        await venue.place_order(Order("ict-usdm-down-2", "BTCUSDT", OrderSide.SELL, OrderType.MARKET, qty,
                                      sim.clock.now_ms(), market=Market.USDM))
        closed = position
        for fill in await venue.trades("BTCUSDT"):
            if fill.client_order_id == "ict-usdm-down-2":
                closed = closed.apply(fill)
        assert closed.closed_at is not None and not sim.control.positions(PAPER_API_KEY)
        await sim.control.step(6)  # the market moves on before the bot comes back

        account = AccountTracker(Decimal(0))
        await restore_account(account, venue, Book(position), market=Market.USDM, quote="USDT")
        account.apply(closed)  # the start reconciliation recovers the exit
        truth = sim.control.futures_wallet(PAPER_API_KEY)["USDT"]
        assert account.equity() != truth, "the price did not move: the scenario did not happen"

        await restore_account(account, venue, Book(), market=Market.USDM, quote="USDT", when="test")
        assert account.equity() == truth and account.open_positions() == ()
        account.apply(closed)  # a late duplicate of the close changes nothing
        assert account.equity() == truth
    finally:
        await venue.client.aclose()
        await sim.stop()
