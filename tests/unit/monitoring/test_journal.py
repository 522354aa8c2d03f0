"""The trade journal on a real bus: one record per trading event, JSON in the file, a line on the console."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ictbot.app.logsetup import configure_logging
from ictbot.bus import EventBus, Topic
from ictbot.domain.events import (
    Alert,
    AlertLevel,
    OrderIntent,
    OrderUpdated,
    PositionClosed,
    PositionUpdated,
    SignalRejected,
    SignalValidated,
)
from ictbot.domain.order import Fill, Order, OrderAccepted, OrderCanceled, OrderFilled, OrderSide, OrderType
from ictbot.domain.position import Position
from ictbot.monitoring.journal import TradeJournal
from ictbot.monitoring.journal_records import JournalRecord
from tests.unit.risk.support import make_signal


def _position(qty: str, realized: str = "0", closed: bool = False) -> Position:
    return Position(id="pos-1", symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", strategy_id="strategy_a",
                    qty=Decimal(qty), avg_entry=Decimal("60000"), realized_pnl=Decimal(realized),
                    fees_quote=Decimal("1.2"), opened_at=1, closed_at=2 if closed else None,
                    entry_qty_total=Decimal("0.1"), stop_loss=Decimal("59400"))


class _State:
    value = "ACTIVE"


@pytest.fixture
async def journal() -> tuple[EventBus, TradeJournal, list[JournalRecord], _State]:
    bus = EventBus()
    state = _State()
    journal = TradeJournal(bus, trading_state=lambda: state.value)
    records: list[JournalRecord] = []
    journal.add_sink(records.append)
    journal.attach()
    await bus.start()
    return bus, journal, records, state


async def test_a_trade_leaves_one_record_per_event_with_ids_prices_and_reasons(
    journal: tuple[EventBus, TradeJournal, list[JournalRecord], _State],
) -> None:
    bus, trade_journal, records, _ = journal
    good, bad = make_signal(), make_signal(time=1_700_000_300_000, stop="61000")
    intent = OrderIntent(good, Decimal("0.1"), None, Decimal("59400"), (Decimal("61200"),), Decimal("60"))
    await bus.publish(Topic.SIGNAL_VALIDATED, SignalValidated(intent))
    await bus.publish(Topic.SIGNAL_REJECTED, SignalRejected(bad, ("stop on the wrong side", "cooldown")))
    await bus.wait_idle()  # the entry order follows the accepted signal

    order = Order("c-1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.1"), 1, signal_id=good.id,
                  position_id="pos-1")
    acked = order.apply(OrderAccepted("x-9", 2))
    filled = acked.apply(OrderFilled(Fill("t1", "c-1", "BTCUSDT", OrderSide.BUY, Decimal("60000"), Decimal("0.1"),
                                          Decimal("0.6"), "USDT", 3)))
    for state in (acked, acked, filled):  # a repeated update records nothing new
        await bus.publish(Topic.ORDER_UPDATED, OrderUpdated(state))
    stop = Order("c-2", "BTCUSDT", OrderSide.SELL, OrderType.STOP_LOSS, Decimal("0.1"), 1, stop_price=Decimal("59400"))
    await bus.publish(Topic.ORDER_UPDATED, OrderUpdated(stop.apply(OrderAccepted("x-10", 4)).apply(
        OrderCanceled(5, "position closed"))))
    await bus.publish(Topic.POSITION_UPDATED, PositionUpdated(_position("0.1")))
    await bus.publish(Topic.POSITION_UPDATED, PositionUpdated(_position("0.1"), Decimal("60100")))
    await bus.wait_idle()
    await bus.publish(Topic.POSITION_CLOSED, PositionClosed(_position("0", realized="-61.2", closed=True)))
    await bus.wait_idle()

    by_event: dict[str, list[JournalRecord]] = {}
    for record in records:
        by_event.setdefault(record.event, []).append(record)
    assert {e: len(v) for e, v in by_event.items()} == {
        "signal_accepted": 1, "signal_rejected": 1, "order_sent": 2, "order_acknowledged": 2, "order_filled": 1,
        "order_canceled": 1, "position_opened": 1, "position_closed": 1,
    }
    rejected = by_event["signal_rejected"][0]
    assert rejected.fields["reasons"] == ["stop on the wrong side", "cooldown"]
    assert rejected.fields["signal_id"] == bad.id and "cooldown" in rejected.summary
    fill = by_event["order_filled"][0].fields
    assert fill["avg_price"] == "60000" and fill["client_order_id"] == "c-1" and fill["complete"] is True
    assert by_event["order_canceled"][0].fields["reason"] == "position closed"
    closed = by_event["position_closed"][0].fields
    assert closed["net_pnl"] == "-61.2" and closed["r_multiple"] == "-1.02" and closed["side"] == "LONG"
    assert closed["fees"] == "1.2"

    listed = trade_journal.recent_signals()
    assert [(e.signal_id, e.accepted) for e in listed] == [(bad.id, False), (good.id, True)]
    assert listed[0].reasons == ("stop on the wrong side", "cooldown")
    assert [e.signal_id for e in trade_journal.recent_signals(rejected_only=True)] == [bad.id]
    await bus.stop()


async def test_breaker_trip_halt_and_resume_are_journaled(
    journal: tuple[EventBus, TradeJournal, list[JournalRecord], _State],
) -> None:
    bus, _, records, state = journal
    state.value = "HALTED"
    await bus.publish(Topic.ALERT, Alert(AlertLevel.CRITICAL, "risk", "circuit breaker daily_loss tripped: -5%",
                                         {"reason": "daily_loss", "state": "HALTED", "tripped_at": 7}))
    await bus.wait_idle()
    state.value = "ACTIVE"
    await bus.publish(Topic.ALERT, Alert(AlertLevel.INFO, "risk", "circuit breaker reset (daily_loss)",
                                         {"cleared": ["daily_loss"]}))
    await bus.wait_idle()
    assert [r.event for r in records] == ["breaker_tripped", "trading_halted", "alert", "trading_resumed"]
    assert records[0].fields["breaker"] == "daily_loss" and records[0].severity is AlertLevel.CRITICAL
    assert records[1].fields["state"] == "HALTED" and records[3].fields["previous_state"] == "HALTED"
    await bus.stop()


async def test_records_are_json_lines_in_the_file_and_one_line_on_the_console(
    journal: tuple[EventBus, TradeJournal, list[JournalRecord], _State], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bus, _, _, _ = journal
    path = configure_logging("INFO", tmp_path / "logs")
    try:
        signal = make_signal()
        await bus.publish(Topic.SIGNAL_REJECTED, SignalRejected(signal, ("daily loss limit reached",)))
        await bus.wait_idle()
        assert path is not None
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        rejected = [line for line in lines if line["event"] == "signal_rejected"]
        assert len(rejected) == 1
        assert rejected[0]["symbol"] == "BTCUSDT" and rejected[0]["reason"] == "daily loss limit reached"
        assert rejected[0]["signal_id"] == signal.id and rejected[0]["stop_loss"] == "59400"
        console = [line for line in capsys.readouterr().err.splitlines() if "SIGNAL rejected" in line]
        assert len(console) == 1 and console[0].endswith("SIGNAL rejected strategy_a BTCUSDT LONG: "
                                                         "daily loss limit reached")
    finally:
        configure_logging("WARNING", None)
        await bus.stop()


async def test_a_failing_sink_does_not_stop_the_journal(
    journal: tuple[EventBus, TradeJournal, list[JournalRecord], _State],
) -> None:
    bus, trade_journal, records, _ = journal

    def broken(record: JournalRecord) -> None:
        raise RuntimeError("sink down")

    trade_journal._sinks.insert(0, broken)
    await bus.publish(Topic.SIGNAL_REJECTED, SignalRejected(make_signal(), ("x",)))
    await bus.wait_idle()
    assert [r.event for r in records] == ["signal_rejected"]
    await bus.stop()


def test_the_order_state_the_journal_tracks_is_bounded() -> None:
    from ictbot.monitoring import journal as journal_module

    memory = journal_module._Bounded()
    for n in range(journal_module._MEMORY + 10):
        memory.remember(str(n), n)
    assert len(memory) == journal_module._MEMORY and "0" not in memory
