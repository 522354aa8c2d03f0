"""Decimal helpers: money is Decimal, rounded to the instrument's tick and step."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from functools import lru_cache

ZERO = Decimal(0)


def to_decimal(value: str | int | float | Decimal) -> Decimal:
    """Convert without the binary-float artefacts of ``Decimal(0.1)``."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def round_to_step(value: Decimal, step: Decimal, mode: str = ROUND_DOWN) -> Decimal:
    """Round ``value`` to a multiple of ``step`` (0 step = unchanged), keeping the step's exponent."""
    if step <= 0:
        return value
    units = (value / step).to_integral_value(rounding=mode)
    quantum = _quantum(step)
    return (units * step).quantize(quantum) if quantum is not None else units * step


@lru_cache(maxsize=256)
def _quantum(step: Decimal) -> Decimal | None:
    """The step's own precision when it has decimals (an instrument has few steps: cached)."""
    normal = step.normalize()
    exponent = normal.as_tuple().exponent
    return normal if isinstance(exponent, int) and exponent < 0 else None


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    return round_to_step(value, step, ROUND_DOWN)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    return round_to_step(value, step, ROUND_UP)


def nearest_step(value: Decimal, step: Decimal) -> Decimal:
    return round_to_step(value, step, ROUND_HALF_EVEN)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step <= 0 or (value % step) == 0
