"""Stop-moving rules (pure): breakeven and trailing, configured in R multiples and price fractions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ictbot.domain.money import ZERO
from ictbot.domain.position import Position


@dataclass(frozen=True, slots=True)
class StopRules:
    """Off by default: a moved stop changes a strategy's trades, so it is the trader's choice
    (``execution.breakeven_at_r`` / ``trail_at_r`` in the config), applied live and in backtests."""

    # Move the stop to the entry (plus ``breakeven_offset`` × entry, to cover fees) at this R.
    breakeven_at_r: Decimal | None = None
    breakeven_offset: Decimal = ZERO
    # From this R on, keep the stop ``trail_distance`` × price behind the price (None: no trailing).
    trail_at_r: Decimal | None = None
    trail_distance: Decimal = Decimal("0.01")
    # Moves smaller than this fraction of the price are not worth a cancel/replace round trip.
    min_move: Decimal = Decimal("0.001")

    @property
    def active(self) -> bool:
        return self.breakeven_at_r is not None or self.trail_at_r is not None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> StopRules:
        """From the config's ``execution`` section (floats; unknown keys ignored)."""

        def dec(name: str) -> Decimal | None:
            value = settings.get(name)
            return None if value is None else Decimal(str(value))

        defaults = cls()
        return cls(breakeven_at_r=dec("breakeven_at_r"),
                   breakeven_offset=dec("breakeven_offset") or defaults.breakeven_offset,
                   trail_at_r=dec("trail_at_r"),
                   trail_distance=dec("trail_distance") or defaults.trail_distance)


def r_multiple(position: Position, price: Decimal, initial_risk: Decimal) -> Decimal:
    """Open profit in units of the initial risk (entry-to-stop distance)."""
    if initial_risk <= 0 or not position.is_open:
        return ZERO
    sign = 1 if position.qty > 0 else -1
    return (price - position.avg_entry) * sign / initial_risk


def next_stop(position: Position, price: Decimal, initial_risk: Decimal, rules: StopRules) -> Decimal | None:
    """The stop the rules want now, or None to leave it. Never loosens the stop."""
    current = position.stop_loss
    if current is None or not position.is_open or price <= 0:
        return None
    sign = 1 if position.qty > 0 else -1
    r = r_multiple(position, price, initial_risk)
    candidate = current
    if rules.breakeven_at_r is not None and r >= rules.breakeven_at_r:
        breakeven = position.avg_entry * (1 + sign * rules.breakeven_offset)
        candidate = _tighter(candidate, breakeven, sign)
    if rules.trail_at_r is not None and r >= rules.trail_at_r:
        candidate = _tighter(candidate, price * (1 - sign * rules.trail_distance), sign)
    if (candidate - current) * sign < rules.min_move * price:
        return None
    if (price - candidate) * sign <= 0:
        return None  # a stop at or beyond the price would trigger at once
    return candidate


def breached(position: Position, price: Decimal) -> str | None:
    """Why the position should already be out at ``price``: its stop or its last target passed."""
    if not position.is_open:
        return None
    sign = 1 if position.qty > 0 else -1
    if position.stop_loss is not None and (price - position.stop_loss) * sign <= 0:
        return f"stop {position.stop_loss} breached at {price}"
    if position.take_profits:
        last = max(position.take_profits) if sign > 0 else min(position.take_profits)
        if (price - last) * sign >= 0:
            return f"last target {last} passed at {price}"
    return None


def _tighter(current: Decimal, proposed: Decimal, sign: int) -> Decimal:
    return max(current, proposed) if sign > 0 else min(current, proposed)
