from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.adapters.storage import (
    Database,
    SqlFillRepository,
    SqlKeyValueStore,
    SqlOrderJournal,
    SqlPositionRepository,
)
from ictbot.domain.order import OrderCanceled, OrderStatus
from ictbot.ports.repositories import FillRepository, KeyValueStore, OrderJournal, PositionRepository
from tests.unit.storage.samples import sample_fill, sample_order, sample_position


async def test_order_journal_round_trip_and_queries(db: Database) -> None:
    journal: OrderJournal = SqlOrderJournal(db)
    order = sample_order()
    await journal.save(order)
    assert await journal.get(order.client_order_id) == order
    assert await journal.get("missing") is None
    assert await journal.open_orders() == [order]

    other = replace(order, client_order_id="ict-other-E0", signal_id="sig-2", symbol="ETHUSDT", created_at=1)
    await journal.save(other)
    assert [o.client_order_id for o in await journal.by_signal("sig-1")] == [order.client_order_id]
    assert [o.symbol for o in await journal.query()] == ["BTCUSDT", "ETHUSDT"]  # newest first
    assert [o.symbol for o in await journal.query(symbol="ETHUSDT")] == ["ETHUSDT"]
    assert await journal.query(status=OrderStatus.CANCELED) == []
    assert len(await journal.query(strategy_id="ict-ob", limit=1, offset=1)) == 1

    canceled = order.apply(OrderCanceled(time=1_700_000_001_000, reason="user"))
    await journal.save(canceled)  # replaces, not duplicates
    assert await journal.get(order.client_order_id) == canceled
    assert [o.client_order_id for o in await journal.open_orders()] == ["ict-other-E0"]
    assert [o.client_order_id for o in await journal.query(status=OrderStatus.CANCELED)] == [order.client_order_id]


async def test_fills_are_unique_per_symbol_and_trade_id(db: Database) -> None:
    fills: FillRepository = SqlFillRepository(db)
    first = sample_fill("cid-1", "100", "0.5", "0.0005", "BTC", 10)
    assert await fills.save(first) is True
    assert await fills.save(replace(first, qty=Decimal("9"))) is False  # same trade id: ignored
    same_id_other_symbol = replace(first, symbol="ETHUSDT")
    assert await fills.save(same_id_other_symbol) is True
    later = sample_fill("cid-1", "101", "0.25", "0", "USDT", 20)
    assert await fills.save(later) is True
    assert await fills.for_order("cid-1") == [first, same_id_other_symbol, later]
    assert await fills.recent(symbol="BTCUSDT") == [later, first]
    assert await fills.recent(limit=1) == [later]
    assert await SqlFillRepository(db).last_trade_time("BTCUSDT") == 20


async def test_positions_open_and_closed(db: Database) -> None:
    repo: PositionRepository = SqlPositionRepository(db)
    position = sample_position()
    await repo.save(position)
    assert await repo.get(position.id) == position
    assert await repo.open_positions() == [position]
    assert await repo.closed_positions() == []

    closed = replace(position, qty=Decimal("0E-8"), closed_at=1_700_000_900_000)
    await repo.save(closed)
    assert await repo.open_positions() == []
    assert await repo.closed_positions() == [closed]
    older = replace(closed, id="pos-1", closed_at=1_600_000_000_000)
    await repo.save(older)
    assert [p.id for p in await repo.closed_positions()] == ["pos-7", "pos-1"]
    assert [p.id for p in await repo.closed_positions(limit=1, offset=1)] == ["pos-1"]


async def test_key_value_store(db: Database) -> None:
    kv: KeyValueStore = SqlKeyValueStore(db)
    assert await kv.get("breaker") is None
    await kv.set("breaker", '{"state":"open"}')
    await kv.set("breaker", '{"state":"closed"}')
    assert await kv.get("breaker") == '{"state":"closed"}'
    await kv.set("download:binance:spot:BTCUSDT:5m", "1700000000000")
    await kv.set("download_x", "not matched by the prefix: '_' is not a wildcard")
    assert await SqlKeyValueStore(db).items("download:") == {"download:binance:spot:BTCUSDT:5m": "1700000000000"}
    await kv.delete("breaker")
    await kv.delete("breaker")  # deleting a missing key is fine
    assert await kv.get("breaker") is None
