"""Retention: delete stored history older than a cut-off, keeping what the running bot still needs.

What goes (all strictly older than ``before_ms``):
- candles whose open time is before the cut-off (the bot warms its indicators from the exchange,
  not from this table, so old candles are only needed for local backtests — export them first);
- closed positions closed before the cut-off, with their orders and fills;
- terminal orders (filled, canceled, expired, rejected) last updated before the cut-off that do
  not belong to an open position, and the fills of those orders.

What stays: open positions and every order and fill of them (reconciliation and protective-order
bookkeeping read them), non-terminal orders of any age, key-value state (risk breakers, the
executor's checkpoints) and configuration versions (small, and the audit trail of changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Connection

from ictbot.adapters.storage import tables as t
from ictbot.domain.order import OrderStatus

_TERMINAL = [status.value for status in OrderStatus if status.is_terminal]


@dataclass
class PruneResult:
    before_ms: int
    dry_run: bool
    deleted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def prune_history(connection: Connection, before_ms: int, *, dry_run: bool = False) -> PruneResult:
    """Delete (or with ``dry_run`` only count) what is older than ``before_ms``; one transaction."""
    open_positions = sa.select(t.positions.c.id).where(t.positions.c.is_open.is_(True))
    old_closed_positions = sa.select(t.positions.c.id).where(
        t.positions.c.is_open.is_(False), t.positions.c.closed_at.is_not(None), t.positions.c.closed_at < before_ms,
    )
    old_orders = sa.select(t.orders.c.client_order_id).where(
        t.orders.c.status.in_(_TERMINAL), t.orders.c.updated_at < before_ms,
        t.orders.c.position_id.not_in(open_positions),
    )
    targets: list[tuple[str, sa.Table, sa.ColumnElement[bool]]] = [
        ("fills", t.fills, sa.and_(t.fills.c.client_order_id.in_(old_orders), t.fills.c.time < before_ms)),
        ("orders", t.orders, t.orders.c.client_order_id.in_(old_orders)),
        ("positions", t.positions, t.positions.c.id.in_(old_closed_positions)),
        ("candles", t.candles, t.candles.c.open_time < before_ms),
    ]
    result = PruneResult(before_ms, dry_run)
    for name, table, condition in targets:  # fills before orders: their condition reads the orders
        if dry_run:
            count = connection.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one()
        else:
            count = connection.execute(sa.delete(table).where(condition)).rowcount
        result.deleted[name] = int(count or 0)
    return result


def compact_sqlite(connection: Connection, *, vacuum: bool) -> None:
    """Give the freed pages back: checkpoint the WAL into the file and truncate it; ``vacuum``
    also rewrites the file (needs free disk space of about the database's size, and a moment in
    which nothing else writes — stop the bot first on a large database)."""
    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    if vacuum:
        connection.exec_driver_sql("VACUUM")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
