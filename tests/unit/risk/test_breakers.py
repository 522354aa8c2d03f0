from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.events import Alert
from ictbot.ports.clock import ManualClock
from ictbot.risk.breakers import STORE_KEY, BreakerBook, CircuitBreakers
from ictbot.risk.limits import RiskLimits
from ictbot.risk.state import BreakerReason, TradingState
from tests.unit.risk.support import MemoryKeyValueStore

DAY = 86_400_000
T0 = 19_675 * DAY + 3_600_000  # 2023-11-14 01:00 UTC
LIMITS = RiskLimits()


def equity_path(book: BreakerBook, *values: str, at: int = T0) -> BreakerBook:
    for value in values:
        book, _ = book.observe_equity(Decimal(value), at, LIMITS)
    return book


def test_daily_loss_trips_at_the_limit_not_before() -> None:
    book = equity_path(BreakerBook(), "10000", "9701")
    assert book.trading_state is TradingState.ACTIVE
    book, new = book.observe_equity(Decimal(9_700), T0 + 1, LIMITS)  # exactly 3 %
    assert [t.reason for t in new] == ["daily_loss"]
    assert book.trading_state is TradingState.REDUCING
    book, again = book.observe_equity(Decimal(9_000), T0 + 2, LIMITS)
    assert not any(t.reason == "daily_loss" for t in again)


def test_daily_loss_expires_at_the_next_utc_day_and_rebases() -> None:
    book = equity_path(BreakerBook(), "10000", "9600")
    assert book.tripped("daily_loss")
    next_day = (T0 // DAY + 1) * DAY
    book = book.roll_day(next_day - 1)
    assert book.tripped("daily_loss")
    book = book.roll_day(next_day)
    assert not book.tripped("daily_loss")
    assert book.day_start_equity == Decimal(9_600)  # the last equity known before midnight
    book, new = book.observe_equity(Decimal(9_400), next_day + 5, LIMITS)
    assert new == []  # 2.1 % of the new day's start


def test_drawdown_from_the_equity_peak_halts() -> None:
    book = equity_path(BreakerBook(), "10000", "11000")
    book, _ = book.observe_equity(Decimal(9_901), T0 + DAY, LIMITS)  # new day: no daily loss yet
    assert not book.tripped("max_drawdown")
    book, new = book.observe_equity(Decimal(9_900), T0 + DAY, LIMITS)  # 10 % below 11 000
    assert any(t.reason == "max_drawdown" for t in new)
    assert book.trading_state is TradingState.HALTED


def test_consecutive_losses() -> None:
    book = BreakerBook()
    for pnl in ("-1", "-1", "-1", "5", "-1", "0", "-1", "-1"):
        book, new = book.observe_closed_trade(Decimal(pnl), T0, LIMITS)
        assert new == []
    assert book.consecutive_losses == 3  # the win reset the streak, the break-even did not count
    book, new = book.observe_closed_trade(Decimal(-1), T0, LIMITS)
    assert [t.reason for t in new] == ["consecutive_losses"]
    assert book.trading_state is TradingState.REDUCING


def test_stale_data_trips_after_the_grace_period() -> None:
    book, new = BreakerBook().observe_staleness(True, T0, LIMITS)
    book, new = book.observe_staleness(True, T0 + 299_999, LIMITS)
    assert new == []
    book, _ = book.observe_staleness(False, T0 + 299_999, LIMITS)  # fresh again: timer restarts
    book, new = book.observe_staleness(True, T0 + 300_000, LIMITS)
    assert new == []
    book, new = book.observe_staleness(True, T0 + 600_000, LIMITS)
    assert [t.reason for t in new] == ["stale_data"]
    never = RiskLimits(stale_data_halt_seconds=0)
    quiet, _ = BreakerBook().observe_staleness(True, T0, never)
    quiet, new = quiet.observe_staleness(True, T0 + 10 * DAY, never)
    assert new == []


def test_reset_rebases_so_it_does_not_retrip() -> None:
    book = equity_path(BreakerBook(), "10000", "11000")
    book, _ = book.observe_equity(Decimal(9_000), T0 + DAY, LIMITS)
    assert book.tripped("max_drawdown")
    book, cleared = book.reset("max_drawdown", T0 + DAY)
    assert [t.reason for t in cleared] == ["max_drawdown"]
    book, new = book.observe_equity(Decimal(8_950), T0 + DAY, LIMITS)
    assert not any(t.reason == "max_drawdown" for t in new)


def test_json_round_trip() -> None:
    book = equity_path(BreakerBook(), "10000", "9000")
    book, _ = book.trip("reconciliation_mismatch", TradingState.HALTED, T0, "order x unknown")
    assert BreakerBook.from_json(book.to_json()) == book


class Harness:
    def __init__(self, store: MemoryKeyValueStore | None = None, limits: RiskLimits = LIMITS) -> None:
        self.store = store or MemoryKeyValueStore()
        self.clock = ManualClock(T0)
        self.bus = EventBus()
        self.alerts: list[Alert] = []
        self.bus.subscribe(Topic.ALERT, self._collect)
        self.breakers = CircuitBreakers(self.store, self.clock, lambda: limits, bus=self.bus)

    async def _collect(self, envelope: Envelope) -> None:
        self.alerts.append(envelope.payload)


@pytest.fixture
async def harness() -> Harness:
    h = Harness()
    await h.bus.start()
    await h.breakers.load()
    return h


async def test_trip_publishes_alert_persists_and_survives_restart(harness: Harness) -> None:
    await harness.breakers.trip("reconciliation_mismatch", message="venue has an order we do not know")
    await harness.breakers.trip("reconciliation_mismatch")  # repeated: no second alert
    await harness.bus.wait_idle()
    assert harness.breakers.trading_state is TradingState.HALTED
    assert len(harness.alerts) == 1 and "reconciliation_mismatch" in harness.alerts[0].message

    restarted = CircuitBreakers(harness.store, harness.clock, lambda: LIMITS)
    await restarted.load()
    assert restarted.trading_state is TradingState.HALTED
    cleared = await restarted.reset()
    assert [t.reason for t in cleared] == ["reconciliation_mismatch"]
    again = CircuitBreakers(harness.store, harness.clock, lambda: LIMITS)
    await again.load()
    assert again.trading_state is TradingState.ACTIVE
    await harness.bus.stop()


async def test_daily_limit_survives_restart_and_clears_next_day(harness: Harness) -> None:
    await harness.breakers.observe_equity(Decimal(10_000))
    await harness.breakers.observe_equity(Decimal(9_500))
    assert harness.breakers.trading_state is TradingState.REDUCING
    harness.clock.set((T0 // DAY + 1) * DAY + 60_000)
    restarted = CircuitBreakers(harness.store, harness.clock, lambda: LIMITS)
    await restarted.load()
    assert restarted.trading_state is TradingState.ACTIVE
    await harness.bus.stop()


async def test_unknown_trip_reason_halts(harness: Harness) -> None:
    await harness.breakers.trip("operator pressed the red button")
    assert harness.breakers.trading_state is TradingState.HALTED
    await harness.bus.stop()


async def test_unreadable_state_halts_instead_of_trading() -> None:
    store = MemoryKeyValueStore()
    store.data[STORE_KEY] = "{not json"
    breakers = CircuitBreakers(store, ManualClock(T0), lambda: LIMITS)
    await breakers.load()
    assert breakers.trading_state is TradingState.HALTED


async def test_equity_ticks_do_not_write_every_time() -> None:
    h = Harness()
    await h.breakers.load()
    writes = h.store.writes
    await h.breakers.observe_equity(Decimal(10_000))
    first = h.store.writes
    for value in ("9990", "9980", "9985"):  # below the peak, same day: nothing durable changes
        await h.breakers.observe_equity(Decimal(value))
    assert h.store.writes == first > writes
    await asyncio.sleep(0)


def test_breaker_states_are_configurable() -> None:
    strict = RiskLimits(breaker_states={BreakerReason.DAILY_LOSS: TradingState.HALTED})
    book, _ = BreakerBook().observe_equity(Decimal(10_000), T0, strict)
    book, _ = book.observe_equity(Decimal(9_000), T0, strict)
    assert book.trading_state is TradingState.HALTED


async def test_latest_equity_is_persisted_at_least_once_a_minute_for_the_next_days_reference() -> None:
    store, clock = MemoryKeyValueStore(), ManualClock(T0)
    breakers = CircuitBreakers(store, clock, lambda: LIMITS)
    await breakers.load()
    await breakers.observe_equity(Decimal(10_000))  # the peak: written
    clock.advance(10)
    await breakers.observe_equity(Decimal(9_900))  # falling, within the minute: not yet
    assert BreakerBook.from_json(store.data[STORE_KEY]).last_equity == Decimal(10_000)
    clock.advance(60)
    await breakers.observe_equity(Decimal(9_800))
    assert BreakerBook.from_json(store.data[STORE_KEY]).last_equity == Decimal(9_800)

    clock.set((T0 // DAY + 1) * DAY + 5_000)  # restart on the next UTC day
    restarted = CircuitBreakers(store, clock, lambda: LIMITS)
    assert (await restarted.load()).day_start_equity == Decimal(9_800)
