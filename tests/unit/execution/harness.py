"""Test harness: an ExecutionService on a FakeVenue, in-memory repos, a manual clock and a live bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.events import Alert, OrderIntent
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.execution import ExecutionConfig, ExecutionService, OrderExecutor
from ictbot.ports.clock import ManualClock
from ictbot.ports.tasks import TaskSupervisor
from ictbot.positions import PositionManager, StopRules
from tests.unit.execution.fake_venue import FakeVenue, drain_stream
from tests.unit.execution.memory_repos import MemoryFills, MemoryJournal, MemoryKV, MemoryPositions

D = Decimal
QUIET = ExecutionConfig(background_tasks=False)


@dataclass
class Harness:
    bus: EventBus
    venue: FakeVenue
    journal: MemoryJournal
    fills: MemoryFills
    positions_repo: MemoryPositions
    kv: MemoryKV
    clock: ManualClock
    service: ExecutionService
    events: list[tuple[Topic, Any]] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def executor(self) -> OrderExecutor:
        return self.service.executor

    @property
    def positions(self) -> PositionManager:
        return self.service.positions

    @property
    def alerts(self) -> list[Alert]:
        return [payload for topic, payload in self.events if topic is Topic.ALERT]

    def published(self, topic: Topic) -> list[Any]:
        return [payload for t, payload in self.events if t is topic]

    async def settle(self) -> None:
        """Deliver pending stream reports and let every follow-up finish."""
        for _ in range(20):
            reports = drain_stream(self.venue)
            for report in reports:
                await self.executor.apply_report(report)
            await self.executor.drain()
            await self.bus.wait_idle()
            if not reports and not self.executor.follow_ups:
                return

    async def restart(self, *, kv: bool = True, config: ExecutionConfig = QUIET) -> Harness:
        """A new process on the same venue and storage (the old one is simply dropped)."""
        await self.service.stop()
        return await make_harness(self.venue, config=config, journal=self.journal, fills=self.fills,
                                  positions_repo=self.positions_repo, kv=self.kv if kv else MemoryKV(),
                                  bus=self.bus, events=self.events, clock=self.clock)


async def make_harness(
    venue: FakeVenue | None = None,
    *,
    config: ExecutionConfig = QUIET,
    journal: MemoryJournal | None = None,
    fills: MemoryFills | None = None,
    positions_repo: MemoryPositions | None = None,
    kv: MemoryKV | None = None,
    bus: EventBus | None = None,
    events: list[tuple[Topic, Any]] | None = None,
    clock: ManualClock | None = None,
    stop_rules: StopRules | None = None,
    start: bool = True,
    tasks: TaskSupervisor | None = None,
) -> Harness:
    venue = venue or FakeVenue()
    journal = journal or MemoryJournal()
    venue.journal = journal
    fresh_bus = bus is None
    bus = bus or EventBus()
    events = events if events is not None else []
    clock = clock or ManualClock(venue.now)
    harness = Harness(
        bus=bus, venue=venue, journal=journal, fills=fills or MemoryFills(),
        positions_repo=positions_repo or MemoryPositions(), kv=kv or MemoryKV(), clock=clock,
        service=None,  # type: ignore[arg-type]
        events=events,
    )
    harness.service = ExecutionService(
        bus, venue, journal, harness.fills, harness.positions_repo, clock, config, kv=harness.kv,
        on_mismatch=harness.mismatches.append, stop_rules=stop_rules or StopRules(breakeven_at_r=None),
        tasks=tasks,
    )
    if fresh_bus:
        for topic in (Topic.ALERT, Topic.ORDER_EXECUTED, Topic.ORDER_UPDATED, Topic.POSITION_UPDATED,
                      Topic.POSITION_CLOSED):
            bus.subscribe(topic, _recorder(events), name=f"test.{topic.value}")
        await bus.start()
    if start:
        await harness.service.start()
        await harness.settle()
    return harness


def _recorder(events: list[tuple[Topic, Any]]) -> Any:
    def record(envelope: Envelope) -> None:
        events.append((envelope.topic, envelope.payload))
    return record


def make_intent(
    *,
    symbol: str = "BTCUSDT",
    direction: Direction = Direction.LONG,
    entry_type: EntryType = EntryType.MARKET,
    qty: str = "0.1",
    entry: str | None = None,
    reference: str = "50000",
    stop: str = "49000",
    targets: tuple[str, ...] = ("52000",),
    time: int = 1_700_000_000_000,
    strategy: str = "ict_test",
    leverage: int = 1,
) -> OrderIntent:
    signal = Signal(
        strategy_id=strategy, symbol=symbol, direction=direction, entry_type=entry_type, stop_loss=D(stop),
        take_profits=tuple(D(t) for t in targets), time=time, entry_price=D(entry) if entry else None,
        reference_price=D(reference),
    )
    return OrderIntent(signal=signal, quantity=D(qty), entry_price=signal.entry_price, stop_loss=D(stop),
                       take_profits=signal.take_profits, risk_amount=D("100"), leverage=leverage)
