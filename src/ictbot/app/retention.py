"""The optional automatic retention policy: ``ictbot db prune`` once a day inside the running bot.

Off unless ``ICTBOT_RETENTION_DAYS`` is set (> 0). Each run deletes what is older than that many
days before the clock's now, with the same rules as ``ictbot db prune`` (open positions, their
orders and live orders are never touched); it does not VACUUM (that needs the bot stopped).
"""

from __future__ import annotations

import structlog

from ictbot.adapters.storage import Database
from ictbot.adapters.storage.prune import PruneResult, prune_history
from ictbot.ports.clock import Clock

log = structlog.get_logger(__name__)

DAY_MS = 86_400_000
RETENTION_EVERY_S = 86_400.0


async def prune_once(database: Database, clock: Clock, days: int) -> PruneResult:
    """Delete what is older than ``days`` before now (one transaction through the writer)."""
    before = clock.now_ms() - days * DAY_MS
    result = await database.write(lambda connection: prune_history(connection, before))
    if result.total:
        log.info("retention: pruned old history", before_ms=before, **result.deleted)
    return result


async def retention_loop(database: Database, clock: Clock, days: int) -> None:
    """``prune_once`` now and then every ``RETENTION_EVERY_S`` of clock time (a supervised task)."""
    while True:
        await prune_once(database, clock, days)
        await clock.sleep(RETENTION_EVERY_S)
