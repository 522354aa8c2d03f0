"""Confirm a contradiction with the venue before it counts as a reconciliation mismatch."""

from __future__ import annotations

import structlog

from ictbot.domain.errors import FinalError, OrderNotFoundError, RetryableError
from ictbot.domain.order import Fill, Order
from ictbot.execution.reports import events_for
from ictbot.ports.venue import ExecutionVenue

log = structlog.get_logger(__name__)


async def contradiction_confirmed(venue: ExecutionVenue, order: Order, problem: str, fills: list[Fill]) -> bool:
    """True only if a fresh query of the order still contradicts our state (a report can be stale
    by the time it is applied). A failed query confirms nothing: the next reconciliation asks again."""
    cid = order.client_order_id
    try:
        fresh = await venue.query_order(order.symbol, cid)
    except OrderNotFoundError:
        fresh = None
    except (RetryableError, FinalError) as exc:
        log.warning("mismatch not confirmed: re-query failed", client_order_id=cid, problem=problem, error=str(exc))
        return False
    if fresh is None:
        return True
    still = events_for(order, fresh, fills).problem
    if not still:
        log.info("mismatch withdrawn after re-query", client_order_id=cid, problem=problem)
    return bool(still)
