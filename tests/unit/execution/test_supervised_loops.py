"""The service's long-running loops run under the app's task supervisor (issue #17)."""

from __future__ import annotations

from decimal import Decimal

from ictbot.app.tasks import TaskManager, TaskState
from ictbot.bus import EventBus
from ictbot.domain.order import OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution import ExecutionService
from ictbot.execution.service import STREAM_TASK, TIMERS_TASK
from ictbot.execution.timers import DETAIL_TASK_PREFIX
from ictbot.ports.clock import SystemClock
from tests.unit.execution.fake_venue import FakeVenue
from tests.unit.execution.harness import make_harness, make_intent
from tests.unit.execution.memory_repos import MemoryFills, MemoryJournal, MemoryKV, MemoryPositions
from tests.unit.execution.test_stream import FAST, until
from tests.unit.execution.test_trade_detail import FAST as DETAIL_FAST
from tests.unit.execution.test_trade_detail import FlakyTrades, fill_without_detail

D = Decimal


async def test_stream_and_timer_loops_are_supervised_listed_and_cancelled_at_stop() -> None:
    venue, bus, tasks, journal = FakeVenue(), EventBus(), TaskManager(), MemoryJournal()
    service = ExecutionService(bus, venue, journal, MemoryFills(), MemoryPositions(),  # type: ignore[arg-type]
                               SystemClock(), FAST, kv=MemoryKV(), tasks=tasks)
    await bus.start()
    await service.start()
    try:
        status = tasks.status()
        assert {STREAM_TASK, TIMERS_TASK} <= set(status)
        assert all(status[name]["state"] == TaskState.RUNNING.value for name in (STREAM_TASK, TIMERS_TASK))
        entry = await service.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
        venue.fill(entry.client_order_id, D("0.1"))  # reaches the books only through the supervised stream loop
        await until(lambda: journal.orders[entry.client_order_id].status is OrderStatus.FILLED)
    finally:
        await service.stop()
        await bus.stop()
    for name in (STREAM_TASK, TIMERS_TASK):
        info = tasks.get(name)
        assert info is not None and info.state is TaskState.CANCELLED
    await tasks.shutdown()


async def test_the_trade_detail_loop_of_an_order_runs_under_the_supervisor_until_the_detail_is_in() -> None:
    venue, tasks = FlakyTrades(), TaskManager()
    h = await make_harness(venue, config=DETAIL_FAST, tasks=tasks)
    try:
        cid = await fill_without_detail(h)  # executed, but its trades cannot be read yet
        name = DETAIL_TASK_PREFIX + cid
        info = tasks.get(name)
        assert info is not None and info.state in (TaskState.RUNNING, TaskState.BACKOFF)
        assert name in tasks.status()  # listed in /status

        venue.trades_down = False
        await until(lambda: h.executor.details.get(cid) is None and info.state is TaskState.COMPLETED)
        assert [f.client_order_id for f in await h.fills.for_order(cid)] == [cid]
        assert name not in tasks.status()  # done: it leaves the task list (/status)
        assert tasks.get(name) is None
    finally:
        await h.service.stop()
        await h.bus.stop()
        await tasks.shutdown()
