"""PositionManager: fills → positions, persisted and published. The only writer of positions."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.domain.events import PositionClosed, PositionUpdated
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill
from ictbot.domain.position import Position
from ictbot.ports.clock import Clock
from ictbot.ports.repositories import FillRepository, PositionRepository
from ictbot.positions.errors import PositionAlreadyClosedError, PositionNotFoundError

log = structlog.get_logger(__name__)


class PositionManager:
    def __init__(
        self, bus: EventBus, positions: PositionRepository, fills: FillRepository, clock: Clock
    ) -> None:
        self._bus = bus
        self._repo = positions
        self._fills = fills
        self._clock = clock
        self._open: dict[str, Position] = {}
        self._marks: dict[str, Decimal] = {}

    async def load(self) -> list[Position]:
        """Read open positions from the repository (start-up)."""
        self._open = {p.id: p for p in await self._repo.open_positions() if p.is_open}
        return list(self._open.values())

    # ---- queries ------------------------------------------------------------------------------
    def get(self, position_id: str) -> Position | None:
        """An open position, from memory."""
        return self._open.get(position_id)

    def open_positions(self, symbol: str | None = None, market: Market | None = None) -> list[Position]:
        return [p for p in self._open.values()
                if (symbol is None or p.symbol == symbol) and (market is None or p.market is market)]

    def mark_price(self, symbol: str) -> Decimal | None:
        return self._marks.get(symbol)

    async def require_open(self, position_id: str) -> Position:
        """The open position, or PositionNotFoundError / PositionAlreadyClosedError."""
        position = self._open.get(position_id)
        if position is not None:
            return position
        stored = await self._repo.get(position_id)
        if stored is None:
            raise PositionNotFoundError(f"position {position_id} not found")
        if not stored.is_open or stored.is_closed:
            raise PositionAlreadyClosedError(f"position {position_id} is already closed")
        self._open[stored.id] = stored
        return stored

    # ---- changes ------------------------------------------------------------------------------
    async def apply_fill(
        self,
        position_id: str,
        fill: Fill,
        instrument: Instrument,
        *,
        strategy_id: str = "",
        stop_loss: Decimal | None = None,
        take_profits: tuple[Decimal, ...] = (),
    ) -> Position:
        """Apply one fill; idempotent per trade id (a replayed fill changes nothing).

        Order of writes: fill, then position; the caller journals the order last, so a crash in
        between is repaired by replaying the venue's trades on restart.
        """
        await self._fills.save(fill)
        position = self._open.get(position_id) or await self._repo.get(position_id)
        if position is None:
            position = Position(
                id=position_id, symbol=fill.symbol, base_asset=instrument.base_asset,
                quote_asset=instrument.quote_asset, market=instrument.market, strategy_id=strategy_id,
                stop_loss=stop_loss, take_profits=take_profits,
            )
        if fill.trade_id in position.trade_ids:
            return position
        updated = position.apply(fill)
        await self._store(updated)
        return updated

    async def set_protection(
        self, position_id: str, stop_loss: Decimal | None, take_profits: tuple[Decimal, ...]
    ) -> Position | None:
        position = self._open.get(position_id)
        if position is None:
            return None
        updated = position.with_protection(stop_loss, take_profits)
        if updated != position:
            await self._store(updated)
        return updated

    async def write_off_dust(self, position_id: str, reason: str) -> Position | None:
        """Close a position whose remainder cannot be traded (below minQty / minNotional)."""
        position = self._open.get(position_id)
        if position is None:
            return None
        log.warning("position dust written off", position=position_id, qty=str(position.qty), reason=reason)
        closed = replace(position, qty=ZERO, closed_at=self._clock.now_ms())
        await self._store(closed)
        return closed

    async def apply_funding(self, symbol: str, amount: Decimal) -> list[Position]:
        """Book a funding payment (futures) on the open positions in ``symbol``, split by size."""
        positions = self.open_positions(symbol, Market.USDM)
        total = sum((abs(p.qty) for p in positions), ZERO)
        if total == 0:
            return []
        updated: list[Position] = []
        for position in positions:
            changed = position.apply_funding(amount * abs(position.qty) / total)
            await self._store(changed)
            updated.append(changed)
        return updated

    async def mark(self, symbol: str, price: Decimal, market: Market | None = None) -> list[Position]:
        """Record the latest price and publish mark-to-market updates for open positions."""
        self._marks[symbol] = price
        positions = self.open_positions(symbol, market)
        for position in positions:
            await self._bus.publish(Topic.POSITION_UPDATED, PositionUpdated(position, price))
        return positions

    async def _store(self, position: Position) -> None:
        await self._repo.save(position)
        if position.is_open:
            self._open[position.id] = position
            await self._bus.publish(
                Topic.POSITION_UPDATED, PositionUpdated(position, self._marks.get(position.symbol))
            )
        else:
            self._open.pop(position.id, None)
            await self._bus.publish(Topic.POSITION_CLOSED, PositionClosed(position))
