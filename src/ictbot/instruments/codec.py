"""``Instrument`` ⇄ compact JSON: the snapshot's and the database's storage form.

Only fields that differ from the ``Instrument`` defaults are written; decimals are plain strings
without trailing zeros (``"0.01"``, ``"1000000"``), so a record is short and diff-friendly.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from ictbot.domain.errors import InputDataError
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market

_FIELDS = {f.name: f for f in fields(Instrument)}
_IDENTITY = ("symbol", "market")


def plain(value: Decimal) -> str:
    """``Decimal("0.01000000")`` → ``"0.01"``; ``Decimal("1E+6")`` → ``"1000000"``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def to_record(instrument: Instrument) -> dict[str, Any]:
    """The instrument's non-default fields (without symbol and market, which key the record)."""
    record: dict[str, Any] = {}
    for name, spec in _FIELDS.items():
        if name in _IDENTITY:
            continue
        value = getattr(instrument, name)
        if spec.default is not MISSING and value == spec.default and type(value) is type(spec.default):
            continue
        if isinstance(value, Decimal):
            record[name] = plain(value)
        elif isinstance(value, tuple):
            record[name] = list(value)
        else:
            record[name] = value
    return record


def _value(symbol: str, name: str, raw: Any) -> Any:
    default = _FIELDS[name].default
    if isinstance(default, Decimal):
        try:
            return Decimal(str(raw))
        except InvalidOperation as exc:
            raise InputDataError("instrument record", f"{symbol}.{name}: {raw!r} is not a number") from exc
    if isinstance(default, tuple):
        return tuple(str(item) for item in raw)
    return raw


def from_record(symbol: str, market: Market, record: dict[str, Any]) -> Instrument:
    unknown = sorted(set(record) - set(_FIELDS))
    if unknown:
        raise InputDataError("instrument record", f"{symbol}: unknown field {unknown[0]}")
    values = {name: _value(symbol, name, raw) for name, raw in record.items()}
    return Instrument(symbol=symbol, market=market, **values)
