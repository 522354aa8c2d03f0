"""Live rules go through the catalogue; a re-read that finds a changed rule applies it and raises an ALERT."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from ictbot.app.instrument_refresh import DAY_S, InstrumentRefresher
from ictbot.app.tasks import RetryPolicy, TaskManager, TaskState
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.events import AlertLevel
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.exchange_sim.paper_venue import PaperVenue
from ictbot.instruments import InstrumentCatalogue, SourceKind
from ictbot.ports.clock import ManualClock


async def test_a_changed_rule_is_applied_and_alerted_once() -> None:
    clock = ManualClock(1_800_000_000_000)
    venue = PaperVenue(clock)
    venue.add_symbol("BTCUSDT", Decimal("50000"))
    bus = EventBus()
    alerts: list[Envelope] = []
    bus.subscribe(Topic.ALERT, alerts.append)
    await bus.start()
    catalogue = InstrumentCatalogue()
    applied: dict[str, Instrument] = {}
    refresher = InstrumentRefresher(venue.instruments, catalogue, bus, clock, market=Market.SPOT, applied=applied,
                                    source="paper")

    assert await refresher.refresh() == []  # the first read: nothing to compare with
    assert applied["BTCUSDT"].status == "TRADING"
    assert catalogue.resolve("BTCUSDT").source.kind is SourceKind.EXCHANGE
    assert await refresher.refresh() == []  # unchanged rules: no alert

    venue.engine.set_status(Market.SPOT, "BTCUSDT", "BREAK")
    (change,) = await refresher.refresh()
    assert (change.field, change.before, change.after) == ("status", "TRADING", "BREAK")
    assert applied["BTCUSDT"].status == "BREAK" and catalogue.instrument("BTCUSDT").status == "BREAK"
    await bus.wait_idle()
    (envelope,) = alerts
    assert envelope.payload.level is AlertLevel.WARNING
    expected = "exchange rule changed: BTCUSDT (spot) status: TRADING -> BREAK (applied from now on)"
    assert envelope.payload.message == expected
    await bus.stop()


async def test_the_loop_re_reads_every_day() -> None:
    clock = ManualClock(0)
    venue = PaperVenue(clock)
    venue.add_symbol("ETHUSDT", Decimal("3000"))
    bus = EventBus()
    await bus.start()
    applied: dict[str, Instrument] = {}
    refresher = InstrumentRefresher(venue.instruments, InstrumentCatalogue(), bus, clock, market=Market.SPOT,
                                    applied=applied)
    tasks = TaskManager(bus)
    tasks.spawn("instruments.refresh", refresher.run)
    for _ in range(5):
        await asyncio.sleep(0)
    await tasks.cancel("instruments.refresh")
    await bus.stop()
    assert clock.slept and set(clock.slept) == {DAY_S}
    assert "ETHUSDT" in applied


async def test_a_failed_read_is_restarted_by_the_supervisor_and_reads_again_at_once() -> None:
    clock = ManualClock(0)
    venue = PaperVenue(clock)
    venue.add_symbol("ETHUSDT", Decimal("3000"))
    reads: list[int] = []

    async def read() -> dict[str, Instrument]:
        reads.append(clock.now_ms())
        if len(reads) == 1:
            raise ConnectionError("exchangeInfo unreachable")
        return await venue.instruments()

    bus = EventBus()
    await bus.start()
    applied: dict[str, Instrument] = {}
    refresher = InstrumentRefresher(read, InstrumentCatalogue(), bus, clock, market=Market.SPOT, applied=applied)
    backoffs: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        backoffs.append(seconds)

    tasks = TaskManager(bus, sleep=fake_sleep, rand=lambda: 0.5)
    tasks.spawn("instruments.refresh", refresher.run, policy=RetryPolicy(initial_delay=60.0, max_retries=None))
    for _ in range(20):
        await asyncio.sleep(0)
    status = tasks.status()["instruments.refresh"]
    await tasks.cancel("instruments.refresh")
    await bus.stop()
    # One interval slept before the first read; after the failure the restart read at once (no second
    # interval), after the supervisor's backoff, and the failure is shown.
    assert clock.slept[:1] == [DAY_S] and len(reads) >= 2 and reads[0] == reads[1] == DAY_S * 1000
    assert backoffs == [60.0] and "ETHUSDT" in applied
    assert status["restarts"] == 1 and status["failures"] == 1
    assert status["last_error"] == "ConnectionError: exchangeInfo unreachable"
    assert tasks.get("instruments.refresh").state is TaskState.CANCELLED  # type: ignore[union-attr]
