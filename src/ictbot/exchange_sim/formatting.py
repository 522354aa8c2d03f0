"""Binance's number formatting: decimals as strings with a fixed number of places, no exponent."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ictbot.exchange_sim.errors import SimError

ZERO = Decimal(0)
_DECIMAL_PARAM = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_QUANTA: dict[int, Decimal] = {places: Decimal(1).scaleb(-places) for places in range(0, 17)}


def fixed(value: Decimal, places: int = 8) -> str:
    """``Decimal("0.001")`` → ``"0.00100000"`` (spot REST/WS style)."""
    return format(value.quantize(_QUANTA[places], rounding=ROUND_HALF_UP), "f")


def plain(value: Decimal) -> str:
    """Shortest plain representation (USD-M style: ``"85.67"``, ``"0"``)."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def parse_decimal_param(name: str, raw: str) -> Decimal:
    """Parse a decimal request parameter exactly as Binance does: exponent notation is rejected."""
    if not _DECIMAL_PARAM.match(raw):
        raise SimError(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.",
        )
    try:
        return Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees a number
        raise SimError(-1100, f"Illegal characters found in parameter '{name}'.") from exc


def round_half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(_QUANTA[places], rounding=ROUND_HALF_UP)
