"""The executor's per-order / per-position bookkeeping stays bounded on a long run."""

from __future__ import annotations

import asyncio

from ictbot.execution import executor_state
from ictbot.execution.executor_state import _lock_for, _remember


def test_remembered_ids_keep_only_the_newest() -> None:
    store: dict[str, None] = {}
    for n in range(25):
        _remember(store, f"cid-{n}", None, 10)
    _remember(store, "cid-20", None, 10)  # seen again: becomes the newest, nothing else dropped
    assert len(store) == 10
    assert list(store) == [f"cid-{n}" for n in (15, 16, 17, 18, 19, 21, 22, 23, 24, 20)]


async def test_free_locks_are_dropped_and_held_ones_kept() -> None:
    locks: dict[str, asyncio.Lock] = {}
    held = _lock_for(locks, "busy")
    await held.acquire()
    for n in range(executor_state._LOCKS_PRUNE_AT * 3):
        async with _lock_for(locks, f"order-{n}"):
            pass
    assert len(locks) <= executor_state._LOCKS_PRUNE_AT
    assert locks["busy"] is held  # a held lock is never replaced
    assert _lock_for(locks, "busy") is held
    held.release()
