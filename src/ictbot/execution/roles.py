"""The narrow interfaces the executor's concerns call each other through where they would otherwise
depend on each other in a cycle (venue reports → reactions → protection → sending → venue reports):
the report applier is built first and connected to these afterwards (``executor.py``)."""

from __future__ import annotations

from typing import Protocol

from ictbot.domain.order import Fill, Order


class ChangeListener(Protocol):
    async def after_change(self, before: Order, after: Order, fills: list[Fill], *, published: bool = False
                           ) -> None:
        """React to a committed change of ``before`` into ``after`` (``published``: its ORDER_* events
        went out already)."""
        ...


class Protector(Protocol):
    async def ensure_protection(self, position_id: str) -> bool:
        """Arm stops for any uncovered quantity of the position; True when it is covered."""
        ...


class DetailLoops(Protocol):
    def start_detail_loop(self, cid: str) -> None:
        """Start the order's trade-detail retry loop unless it is running already."""
        ...
