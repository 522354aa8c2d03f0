from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ictbot.domain.position import Position
from ictbot.risk import account as account_module
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


def test_folded_pnl_is_forgotten_with_the_closed_position_and_stays_right_where_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # before: _folded / _folded_at kept one entry per position ever closed (the 10,000-cap on _known
    # did not trim them)
    monkeypatch.setattr(account_module, "_MAX_KNOWN", 50)
    account = AccountTracker(Decimal(1_000))
    closes: list[Position] = []
    for n in range(400):
        position = open_position(pid=f"p{n}")
        account.apply(position, mark=Decimal(60_000))
        closed = replace(position, qty=Decimal(0), realized_pnl=Decimal(1), closed_at=n + 1,
                         trade_ids=position.trade_ids | {f"p{n}-t2"})
        assert account.apply(closed) == Decimal(1)
        closes.append(closed)
        assert len(account._folded) <= 51 and len(account._folded_at) <= 51
    assert account.equity() == Decimal(1_400)
    # a recent close: its duplicate is still recognised, a late trade folds only its delta
    last = closes[-1]
    assert account.apply(last) is None
    late = replace(last, realized_pnl=Decimal("1.5"), trade_ids=last.trade_ids | {"late"})
    assert account.apply(late) == Decimal("0.5")
    assert account.equity() == Decimal("1400.5")
    # an id kept open through all of it still counts only its unfolded P&L
    reopened = replace(closes[-2], qty=Decimal("0.1"), avg_entry=Decimal(60_000), closed_at=None,
                       realized_pnl=Decimal(1), trade_ids=closes[-2].trade_ids | {"again"})
    account.apply(reopened, mark=Decimal(60_100))
    assert account.equity() == Decimal("1410.5")
