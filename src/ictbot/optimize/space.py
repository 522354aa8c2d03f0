"""The search space from ``--space`` flags: ``name=low:high[:step]`` ranges and ``name=a,b,c`` choices.

Pure parsing; the Optuna shell turns each entry into a ``suggest_*`` call (``study.suggest``).
A range whose bounds and step are all integers is an integer range; ``risk.<field>`` names a risk
limit (as ``--sweep`` does), every other name a strategy parameter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SPACE_FLAG = "--space"


@dataclass(frozen=True)
class NumericRange:
    name: str
    low: float
    high: float
    step: float | None = None
    integer: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "int" if self.integer else "float", "low": self.low, "high": self.high,
                "step": self.step}


@dataclass(frozen=True)
class Choice:
    name: str
    values: tuple[Any, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "choice", "values": list(self.values)}


Dimension = NumericRange | Choice


def _value(text: str) -> Any:
    """``10`` → 10, ``0.5`` → 0.5, ``true`` → True, anything else stays text."""
    try:
        return json.loads(text.strip())
    except json.JSONDecodeError:
        return text.strip()


def _number(item: str, part: str, what: str) -> float | int:
    value = _value(part)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{SPACE_FLAG} {item!r}: {what} must be a number, got {part.strip()!r}")
    return value


def _parse_range(item: str, name: str, text: str) -> NumericRange:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"{SPACE_FLAG} {item!r}: expected name=low:high[:step] or name=a,b,c")
    low, high = _number(item, parts[0], "low"), _number(item, parts[1], "high")
    step = _number(item, parts[2], "step") if len(parts) == 3 else None
    if low >= high:
        raise ValueError(f"{SPACE_FLAG} {item!r}: low ({low}) must be below high ({high})")
    if step is not None and step <= 0:
        raise ValueError(f"{SPACE_FLAG} {item!r}: step must be positive, got {step}")
    if step is not None and step > high - low:
        raise ValueError(f"{SPACE_FLAG} {item!r}: step {step} is wider than the range {low}..{high}")
    integer = all(isinstance(v, int) for v in (low, high, step if step is not None else 1))
    return NumericRange(name, low, high, step, integer)


def parse_dimension(item: str) -> Dimension:
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name or not text.strip():
        raise ValueError(f"{SPACE_FLAG} {item!r}: expected name=low:high[:step] or name=a,b,c")
    if ":" in text:
        return _parse_range(item, name, text)
    values = tuple(_value(v) for v in text.split(",") if v.strip())
    if len(values) < 2:
        raise ValueError(f"{SPACE_FLAG} {item!r}: a choice needs at least two values (a,b,...)")
    if len({json.dumps(v) for v in values}) != len(values):
        raise ValueError(f"{SPACE_FLAG} {item!r}: a value is listed twice")
    return Choice(name, values)


def parse_space(items: Sequence[str]) -> tuple[Dimension, ...]:
    if not items:
        raise ValueError(f"{SPACE_FLAG}: give at least one parameter to search (name=low:high or name=a,b,c)")
    dimensions = [parse_dimension(item) for item in items]
    seen: set[str] = set()
    for dimension in dimensions:
        if dimension.name in seen:
            raise ValueError(f"{SPACE_FLAG} {dimension.name} given twice")
        seen.add(dimension.name)
    return tuple(dimensions)


def space_to_json(space: Sequence[Dimension]) -> list[dict[str, Any]]:
    return [d.to_json() for d in space]


def space_from_json(rows: Sequence[dict[str, Any]]) -> tuple[Dimension, ...]:
    """Inverse of ``space_to_json`` (a study records its space so later workers can check theirs)."""
    found: list[Dimension] = []
    for row in rows:
        if row["kind"] == "choice":
            found.append(Choice(row["name"], tuple(row["values"])))
        else:
            found.append(NumericRange(row["name"], row["low"], row["high"], row["step"], row["kind"] == "int"))
    return tuple(found)
