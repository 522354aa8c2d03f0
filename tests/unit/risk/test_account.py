from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.risk.account import AccountTracker
from tests.unit.risk.support import open_position


def test_equity_counts_unrealized_pnl_at_the_mark() -> None:
    account = AccountTracker(Decimal(10_000))
    assert account.apply(open_position(qty="0.1", entry="60000"), mark=Decimal(59_000)) is None
    assert account.equity() == Decimal(9_900)
    account.set_mark("BTCUSDT", Decimal(61_000))
    assert account.equity() == Decimal(10_100)


def test_closing_folds_realized_pnl_once() -> None:
    account = AccountTracker(Decimal(10_000))
    position = open_position()
    account.apply(position, mark=Decimal(60_000))
    closed = replace(position, qty=Decimal(0), realized_pnl=Decimal(-65), closed_at=1,
                     trade_ids=position.trade_ids | {"t2"})
    assert account.apply(closed) == Decimal(-65)
    assert account.apply(closed) is None  # the same close on the other topic
    assert account.apply(position, mark=Decimal(50_000)) is None  # stale "open" update arriving late
    assert account.equity() == Decimal(9_935)
    assert account.open_positions() == ()


def test_reopened_position_id_counts_only_new_pnl() -> None:
    account = AccountTracker(Decimal(1_000))
    position = open_position()
    closed = replace(position, qty=Decimal(0), realized_pnl=Decimal(20), closed_at=1,
                     trade_ids=position.trade_ids | {"t2"})
    account.apply(position)
    account.apply(closed)
    reopened = replace(closed, qty=Decimal("0.1"), avg_entry=Decimal(60_000), closed_at=None,
                       trade_ids=closed.trade_ids | {"t3"})
    account.apply(reopened, mark=Decimal(60_000))
    assert account.equity() == Decimal(1_020)
    reclosed = replace(reopened, qty=Decimal(0), realized_pnl=Decimal(15), closed_at=2,
                       trade_ids=reopened.trade_ids | {"t4"})
    assert account.apply(reclosed) == Decimal(-5)
    assert account.equity() == Decimal(1_015)


def test_set_equity_rebases_on_the_venue() -> None:
    account = AccountTracker(Decimal(10_000))
    account.apply(open_position(), mark=Decimal(61_000))
    account.set_equity(Decimal(12_000))
    assert account.equity() == Decimal(12_000)
    account.set_mark("BTCUSDT", Decimal(60_000))
    assert account.equity() == Decimal(11_900)
