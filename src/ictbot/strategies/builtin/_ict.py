"""Small readers over the indicator snapshot shared by the built-in strategies.

They only look at what the snapshot says was known at ``snapshot.time``; "new" always means
"confirmed at this very close" (``confirm_time == snapshot.time``), so a higher-timeframe event
that stays in its view for several base candles is acted on once.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from decimal import Decimal

from ictbot.domain.ict import IctEvent, IndicatorSnapshot, LiquidityLevel, TimeframeView, events_tail
from ictbot.domain.money import to_decimal


def events_of(view: TimeframeView) -> tuple[IctEvent, ...]:
    """The view's recent events plus its new events, without duplicates, in log order."""
    recent = tuple(view.recent_events)
    seen = {event.id for event in recent}
    return recent + tuple(event for event in view.new_events if event.id not in seen)


def events_since(view: TimeframeView, oldest: int, kinds: Container[str] | None = None) -> list[IctEvent]:
    """``events_of(view)`` restricted to events confirmed at or after ``oldest`` (and of ``kinds``), in
    log order.

    The log is ordered by confirmation, so only its tail is read (a replayed view's recent events are
    built only when read, and only the matching ones).
    """
    tail = events_tail(view.recent_events, oldest, kinds)
    if view.new_events:
        # a new event also in the recent window sits at its tail, which is in range if the event is
        seen = {event.id for event in tail}
        tail.extend(event for event in view.new_events if event.id not in seen and event.confirm_time >= oldest
                    and (kinds is None or event.kind in kinds))
    return tail


def new_events(view: TimeframeView, time: int, *kinds: str) -> list[IctEvent]:
    """Events of ``kinds`` confirmed exactly at ``time``, in log order.

    The log is ordered by confirmation, so only the tail of ``recent_events`` is read.
    """
    found: dict[str, IctEvent] = {}
    for event in reversed(view.recent_events):
        if event.confirm_time < time:
            break
        if event.confirm_time == time and event.kind in kinds:
            found[event.id] = event
    for event in view.new_events:
        if event.confirm_time == time and event.kind in kinds:
            found.setdefault(event.id, event)
    return sorted(found.values(), key=lambda event: event.confirm_time)


def find_event(events: Iterable[IctEvent], event_id: str) -> IctEvent | None:
    for event in events:
        if event.id == event_id:
            return event
    return None


def htf_bias(snapshot: IndicatorSnapshot, timeframes: Sequence[str], source: str) -> int:
    """+1/−1 when every listed timeframe's structure trend agrees, else 0 (no bias)."""
    trends = set()
    for timeframe in timeframes:
        view = snapshot.view(timeframe)
        if view is None:
            return 0
        trends.add(view.swing_trend if source == "swing_trend" else view.trend)
    return trends.pop() if len(trends) == 1 and trends != {0} else 0


def liquidity_targets(
    views: Iterable[TimeframeView], direction: int, entry: float, risk: float, min_reward_risk: float,
    max_targets: int, first: float | None = None,
) -> list[float]:
    """Opposing liquidity to aim at: buy-side levels above a long's entry, sell-side below a short's.

    ``first`` (optional) is a preferred first target; later targets then lie beyond it. Levels
    closer than ``min_reward_risk`` times the risk are skipped (not worth the trade); the rest are
    taken nearest first, one per price.
    """
    prices: set[float] = set()
    for view in views:
        for level in view.liquidity:
            if _beyond(level, direction, entry):
                prices.add(level.level)
    if first is not None and (first - entry) * direction > 0:
        prices.add(first)
    ordered = sorted(prices, key=lambda price: (price - entry) * direction)
    worth = [price for price in ordered if (price - entry) * direction >= min_reward_risk * risk]
    if first is not None and first in worth:
        worth = [first, *(price for price in worth if (price - first) * direction > 0)]
    return worth[:max_targets]


def _beyond(level: LiquidityLevel, direction: int, entry: float) -> bool:
    return level.side == direction and (level.level - entry) * direction > 0


def price(value: float) -> Decimal:
    """Indicator float → Decimal without binary artefacts (risk rounds it to the tick)."""
    return to_decimal(float(value))


def extra_float(event: IctEvent, key: str) -> float | None:
    value = event.extra.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
