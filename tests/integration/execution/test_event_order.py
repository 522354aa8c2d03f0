"""Causal order of the events one entry publishes: order sent → acknowledged/filled → position opened.

The operator's journal and every bus consumer must see an entry's order before the position it
opens, and the first record of the order must be the journaled, not yet answered order (the
venue's answer comes after). Checked on the bus's publish order (``Envelope.seq``), and through
the trade journal fed in that order.
"""

from __future__ import annotations

from decimal import Decimal

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.market import Market
from ictbot.domain.order import OrderStatus
from ictbot.exchange_sim import paper_venue as paper
from ictbot.execution import ExecutionService
from ictbot.monitoring.journal import TradeJournal
from ictbot.monitoring.journal_records import JournalRecord
from ictbot.ports.clock import SystemClock
from tests.integration.execution.test_paper_venue import FAST, storage, until
from tests.unit.execution.harness import make_intent

D = Decimal
TOPICS = (Topic.ORDER_UPDATED, Topic.ORDER_EXECUTED, Topic.POSITION_UPDATED)


async def _one_market_entry() -> tuple[list[Envelope], str, str]:
    """Run one MARKET entry on the in-process paper venue; every envelope in publish order."""
    venue = paper.PaperVenue(SystemClock(), market=Market.SPOT)
    venue.add_symbol("BTCUSDT", D("50000"))
    store = storage()
    bus = EventBus()
    seen: list[Envelope] = []
    for topic in TOPICS:
        bus.subscribe(topic, seen.append, name=f"test.order.{topic.value}")
    service = ExecutionService(bus, venue, store.journal, store.fills, store.positions,  # type: ignore[arg-type]
                               SystemClock(), FAST, kv=store.kv)
    await bus.start()
    await service.start()
    try:
        entry = await service.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("52000",)))
        await until(lambda: service.positions.get(entry.position_id) is not None
                    and service.executor.protection_deficit(entry.position_id, confirmed=True) == 0)
        await bus.wait_idle()
    finally:
        await service.stop()
        await bus.stop()
    return sorted(seen, key=lambda e: e.seq), entry.client_order_id, entry.position_id


def _first(envelopes: list[Envelope], topic: Topic, predicate: object = None) -> int:
    for envelope in envelopes:
        if envelope.topic is topic and (predicate is None or predicate(envelope)):  # type: ignore[operator]
            return envelope.seq
    raise AssertionError(f"no {topic.value} event")


async def test_entry_order_is_published_when_journaled_and_before_the_position_it_opens() -> None:
    envelopes, cid, position_id = await _one_market_entry()
    entry_updates = [e for e in envelopes if e.topic is Topic.ORDER_UPDATED and e.payload.order.client_order_id == cid]
    assert entry_updates[0].payload.order.status is OrderStatus.PENDING_SUBMIT
    assert entry_updates[-1].payload.order.status is OrderStatus.FILLED
    position_opened = _first(envelopes, Topic.POSITION_UPDATED, lambda e: e.payload.position.id == position_id)
    filled = _first(envelopes, Topic.ORDER_UPDATED,
                    lambda e: e.payload.order.client_order_id == cid and e.payload.order.filled_qty > 0)
    executed = _first(envelopes, Topic.ORDER_EXECUTED, lambda e: e.payload.order.client_order_id == cid)
    assert entry_updates[0].seq < executed < position_opened
    assert filled < position_opened


async def test_the_trade_journal_records_sent_then_acknowledged_filled_then_position_opened() -> None:
    envelopes, cid, position_id = await _one_market_entry()
    journal = TradeJournal(EventBus())
    records: list[JournalRecord] = []
    journal.add_sink(records.append)
    for envelope in envelopes:  # one consumer, in publish order
        if envelope.topic is Topic.ORDER_UPDATED:
            journal._on_order(envelope)
        elif envelope.topic is Topic.POSITION_UPDATED:
            journal._on_position(envelope)
    mine = [r for r in records
            if r.fields.get("position_id") == position_id and r.fields.get("client_order_id") in (cid, None)]
    events = [r.event for r in mine]
    assert events[:4] == ["order_sent", "order_acknowledged", "order_filled", "position_opened"]
    assert mine[0].fields["status"] == OrderStatus.PENDING_SUBMIT.value
