"""Old spellings of configuration keys, still read so that nobody's saved configuration breaks.

Risk per trade has one name and one unit everywhere: ``risk_per_trade_pct``, percent of equity
lost at the stop (``0.5`` = 0.5 %), in the ``risk`` section, in each strategy entry, in the API and
in ``ictbot config``. Earlier versions spelled a strategy's own value ``risk_per_trade`` as a
fraction (``0.005``), and the API docs named ``risk_per_trade`` for the risk section too. Either
old spelling is still accepted: converted to percent (×100) with a deprecation warning naming the
new key.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ictbot.domain.errors import ConfigError

LEGACY_KEY = "risk_per_trade"
CURRENT_KEY = "risk_per_trade_pct"
HUNDRED = Decimal(100)


def fraction_to_percent(value: Any, field: str) -> float:
    """A legacy fraction (``0.005``) as the percent the current key holds (``0.5``)."""
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        fraction = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ConfigError("invalid configuration", [(field, "must be a number (a fraction, e.g. 0.005)")]) from exc
    if not fraction.is_finite():
        raise ConfigError("invalid configuration", [(field, "must be a finite number")])
    return float(fraction * HUNDRED)


def upgrade_changes(changes: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[str]]:
    """``changes`` (a strategy entry, the risk section, or a partial change to either) with the old
    key renamed and converted; the deprecation notes to show. ``where`` names the section."""
    if LEGACY_KEY not in changes:
        return dict(changes), []
    upgraded = dict(changes)
    old = upgraded.pop(LEGACY_KEY)
    field = f"{where}.{LEGACY_KEY}"
    if upgraded.get(CURRENT_KEY) is not None:
        raise ConfigError("invalid configuration", [(field, f"deprecated; remove it ({where}.{CURRENT_KEY} is set)")])
    if old is None:  # unset under the old name (every strategy entry of an old saved version): unset
        upgraded.setdefault(CURRENT_KEY, None)
        return upgraded, []
    percent = fraction_to_percent(old, field)
    upgraded[CURRENT_KEY] = percent
    return upgraded, [f"{field} is deprecated: use {where}.{CURRENT_KEY} in percent "
                      f"({LEGACY_KEY}={old} is {CURRENT_KEY}={percent:g})"]


def upgrade_document(document: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A whole configuration document with every old spelling upgraded, and the notes."""
    upgraded = dict(document)
    notes: list[str] = []
    risk = document.get("risk")
    if isinstance(risk, Mapping):
        upgraded["risk"], found = upgrade_changes(risk, "risk")
        notes += found
    strategies = document.get("strategies")
    if isinstance(strategies, Mapping):
        entries: dict[str, Any] = {}
        for strategy_id, entry in strategies.items():
            if isinstance(entry, Mapping):
                entry, found = upgrade_changes(entry, f"strategies.{strategy_id}")
                notes += found
            entries[strategy_id] = entry
        upgraded["strategies"] = entries
    return upgraded, notes
