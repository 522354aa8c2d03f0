"""The executor's collaborators on their own: each built from an ``ExecutorContext`` and stubs of the
roles it calls (``roles.py``), without the ``OrderExecutor`` facade."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.bus import EventBus, Topic
from ictbot.domain.events import Alert
from ictbot.domain.order import Fill, Order, OrderLeg, OrderStatus, OrderSubmitUnknown
from ictbot.domain.signal import EntryType
from ictbot.execution import LOST_REASON
from ictbot.execution.attempts import AttemptNumbers, FreeBalance
from ictbot.execution.executor_state import ExecutorContext
from ictbot.execution.ids import leg_client_id
from ictbot.execution.planning import entry_order
from ictbot.execution.unknown_outcomes import UnknownOutcomes
from ictbot.execution.venue_reports import VenueReports
from ictbot.ports.clock import ManualClock
from ictbot.positions import PositionManager
from tests.unit.execution.fake_venue import FakeVenue, drain_stream, spot_btc
from tests.unit.execution.harness import QUIET, make_harness, make_intent
from tests.unit.execution.memory_repos import MemoryFills, MemoryJournal, MemoryPositions
from tests.unit.execution.test_trade_detail import FAST as DETAIL_FAST
from tests.unit.execution.test_trade_detail import FlakyTrades, fill_without_detail, until

D = Decimal


@dataclass
class Recorder:
    """Stands in for the reactions, protection and detail loops the reports are connected to."""

    changes: list[tuple[OrderStatus, OrderStatus, int, bool]] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    detail_loops: list[str] = field(default_factory=list)

    async def after_change(self, before: Order, after: Order, fills: list[Fill], *, published: bool = False
                           ) -> None:
        self.changes.append((before.status, after.status, len(fills), published))

    async def ensure_protection(self, position_id: str) -> bool:
        self.protected.append(position_id)
        return True

    def start_detail_loop(self, cid: str) -> None:
        self.detail_loops.append(cid)


def context(venue: FakeVenue | None = None) -> tuple[ExecutorContext, FakeVenue, list[tuple[Topic, object]]]:
    venue = venue or FakeVenue()
    bus, clock = EventBus(), ManualClock(venue.now)
    published: list[tuple[Topic, object]] = []
    for topic in (Topic.ORDER_UPDATED, Topic.ORDER_EXECUTED, Topic.ALERT):
        bus.subscribe(topic, lambda e: published.append((e.topic, e.payload)), name=f"test.{topic.value}")
    positions = PositionManager(bus, MemoryPositions(), MemoryFills(), clock)
    return ExecutorContext(bus, venue, MemoryJournal(), positions, clock, QUIET), venue, published


def reports_with(ctx: ExecutorContext) -> tuple[VenueReports, Recorder]:
    reports, recorder = VenueReports(ctx), Recorder()
    reports.connect(recorder, recorder, recorder)
    return reports, recorder


async def journaled_entry(ctx: ExecutorContext, qty: str = "0.1") -> Order:
    order = entry_order(make_intent(qty=qty), spot_btc(), ctx.config, ctx.clock.now_ms())
    await ctx.journal_new(order)
    return order


async def test_venue_reports_apply_a_fill_publish_it_then_tell_their_listener() -> None:
    ctx, venue, published = context()
    await ctx.bus.start()
    reports, recorder = reports_with(ctx)
    order = await journaled_entry(ctx)
    applied = await reports.apply_report(await venue.place_order(order))
    await ctx.bus.wait_idle()
    assert applied is not None and applied.status is OrderStatus.FILLED
    assert recorder.changes == [(OrderStatus.PENDING_SUBMIT, OrderStatus.FILLED, 1, True)]  # published already
    statuses = [p.order.status for t, p in published if t is Topic.ORDER_UPDATED]  # type: ignore[attr-defined]
    assert statuses == [OrderStatus.PENDING_SUBMIT, OrderStatus.FILLED]
    assert ctx.positions.get(order.position_id) is not None
    assert order.client_order_id not in ctx.book  # terminal: out of the book, in the journal
    await ctx.bus.stop()


async def test_unknown_outcomes_declare_an_order_the_venue_never_got_lost_once() -> None:
    ctx, _, _ = context()
    reports, recorder = reports_with(ctx)
    resolver = UnknownOutcomes(ctx, reports)
    order = await journaled_entry(ctx)
    cid = order.client_order_id
    await reports.apply_events(cid, [OrderSubmitUnknown("timeout", ctx.clock.now_ms())])
    assert await resolver.resolve_once(cid) is False  # within the grace it may still arrive
    ctx.clock.advance(ctx.config.unknown_grace_s)  # type: ignore[attr-defined]
    assert await resolver.resolve_once(cid) is True
    assert await resolver.resolve_once(cid) is True  # already resolved: not counted again
    stored = await ctx.journal.get(cid)
    assert stored is not None and stored.reason == LOST_REASON
    assert ctx.stats.lost == 1
    assert recorder.changes[-1][:2] == (OrderStatus.SUBMITTED_UNKNOWN, OrderStatus.REJECTED)


async def test_attempt_numbers_skip_ids_a_venue_report_already_mentioned() -> None:
    ctx, _, _ = context()
    attempts = AttemptNumbers(ctx)
    first = await attempts.next_attempt("ict-p", 2)
    taken = leg_client_id("ict-p", OrderLeg.STOP, first + 2)
    ctx.seen_ids[taken] = None  # e.g. an order of an earlier incarnation of this position
    second = await attempts.next_attempt("ict-p", 2)
    assert second >= first + 2 and second != first + 2
    assert taken not in {leg_client_id("ict-p", leg, n) for leg in OrderLeg for n in (second, second + 1)}


async def test_free_balance_caps_a_sell_to_the_coins_the_account_holds_and_says_so() -> None:
    ctx, _, published = context(FakeVenue(balances={"BTC": D("0.05")}))
    await ctx.bus.start()
    balances = FreeBalance(ctx)
    assert await balances.cap("ict-p", spot_btc(), D("0.04")) == D("0.04")
    assert await balances.cap("ict-p", spot_btc(), D("0.1")) == D("0.05")
    await ctx.bus.wait_idle()
    alerts = [p for t, p in published if t is Topic.ALERT]
    assert len(alerts) == 1 and isinstance(alerts[0], Alert) and "only 0.05" in alerts[0].message
    await ctx.bus.stop()


async def test_protection_waits_out_a_refusal_before_arming_again() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
    await h.settle()
    protection = h.executor._protection
    h.venue.fill(entry.client_order_id, D("0.1"))
    protection.note_refused(entry.position_id)  # as the reactions do when the venue refuses a stop
    for report in drain_stream(h.venue):
        await h.executor.apply_report(report)
    await h.executor.drain()
    assert await protection.ensure_protection(entry.position_id) is False  # within rearm_backoff_s
    assert protection.unprotected_positions() == [entry.position_id]
    protection.clear_refusal(entry.position_id)
    assert await protection.ensure_protection(entry.position_id) is True
    await h.settle()
    assert protection.unprotected_positions() == []


async def test_a_finished_trade_detail_loop_leaves_the_timers_loops() -> None:
    venue = FlakyTrades()
    h = await make_harness(venue, config=DETAIL_FAST)  # no supervisor: plain tasks
    cid = await fill_without_detail(h)
    timers = h.executor._timers
    assert cid in timers._detail_tasks
    venue.trades_down = False
    await until(lambda: h.executor.details.get(cid) is None and cid not in timers._detail_tasks)
    await h.service.stop()
