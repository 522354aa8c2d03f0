"""Equity as risk sees it: a cash base plus the realized and unrealized P&L of open positions.

Fed with the positions published on the bus. Realized P&L of a closed position is folded into the
base once. Fees paid in the quote asset are inside ``realized_pnl``; fees paid in other assets
(BNB) are not converted and so not counted.
"""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.money import ZERO
from ictbot.domain.position import Position


def is_newer(position: Position, known: Position | None) -> bool:
    """Whether ``position`` supersedes ``known``. Updates and closes travel on two topics (two
    queues), so a stale "open" update can arrive after the "closed" one and must not win."""
    if known is None:
        return True
    if len(position.trade_ids) != len(known.trade_ids):
        return len(position.trade_ids) > len(known.trade_ids)
    return not (known.closed_at is not None and position.closed_at is None)


_MAX_KNOWN = 10_000


class AccountTracker:
    def __init__(self, starting_equity: Decimal) -> None:
        self._base = starting_equity
        self._open: dict[str, Position] = {}
        self._known: dict[str, Position] = {}
        self._folded: dict[str, Decimal] = {}  # realized P&L already moved into the base, per id
        self._folded_at: dict[str, int] = {}  # number of trades at the last fold, per id
        self.marks: dict[str, Decimal] = {}

    def apply(self, position: Position, mark: Decimal | None = None) -> Decimal | None:
        """Record a position update; returns the trade's realized P&L when this update closed it."""
        if mark is not None and mark > 0:
            self.marks[position.symbol] = mark
        if not is_newer(position, self._known.get(position.id)):
            return None
        self._known[position.id] = position
        if len(self._known) > _MAX_KNOWN:
            self._forget_closed()
        if position.is_open:
            self._open[position.id] = position
            return None
        self._open.pop(position.id, None)
        if position.closed_at is None or self._folded_at.get(position.id) == len(position.trade_ids):
            return None
        realized = position.realized_pnl - self._folded.get(position.id, ZERO)
        self._base += realized
        self._folded[position.id] = position.realized_pnl
        self._folded_at[position.id] = len(position.trade_ids)
        return realized

    def _forget_closed(self) -> None:
        """Bound memory: keep open positions and the most recent closed ones (for late updates).

        A forgotten position's folded P&L goes with it: ``_folded`` / ``_folded_at`` are read only for
        ids still in ``_known`` (the dedup of a repeated close, the delta of a late trade, the equity of
        a reopened id), so they cover exactly the window in which a late update is recognised."""
        closed = [pid for pid, p in self._known.items() if not p.is_open]
        for pid in closed[: len(closed) // 2]:
            del self._known[pid]
            self._folded.pop(pid, None)
            self._folded_at.pop(pid, None)

    def set_mark(self, symbol: str, price: Decimal) -> None:
        if price > 0:
            self.marks[symbol] = price

    def open_positions(self) -> tuple[Position, ...]:
        return tuple(self._open.values())

    def equity(self) -> Decimal:
        total = self._base
        for position in self._open.values():
            mark = self.marks.get(position.symbol, position.avg_entry)
            total += position.realized_pnl - self._folded.get(position.id, ZERO) + position.unrealized_pnl(mark)
        return total

    def set_equity(self, equity: Decimal) -> None:
        """Re-base on the venue's reported equity (e.g. after reconciliation)."""
        self._base += equity - self.equity()
