"""Parameter validators shared by the built-in strategy configs."""

from __future__ import annotations

from collections.abc import Iterable

from ictbot.domain.timeframe import Timeframe

# Window ids of ict-spec §8.
KNOWN_WINDOWS = (
    "asia_kz", "london_kz", "ny_am_kz", "london_close_kz", "ny_pm_kz", "tokyo", "london", "new_york",
)


def timeframes(values: Iterable[str]) -> tuple[str, ...]:
    parsed = tuple(Timeframe.parse(value).value for value in values)
    if len(set(parsed)) != len(parsed):
        raise ValueError("timeframes must not repeat")
    return parsed


def windows(values: Iterable[str]) -> tuple[str, ...]:
    names = tuple(values)
    unknown = [name for name in names if name not in KNOWN_WINDOWS]
    if unknown:
        raise ValueError(f"unknown killzone/session {unknown}; expected some of {', '.join(KNOWN_WINDOWS)}")
    return names
