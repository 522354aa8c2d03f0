"""ICT vocabulary shared by the indicator engine (producer) and strategies (consumers).

The indicator engine emits an append-only log of ``IctEvent`` per (symbol, timeframe) and
summarises the state at each closed candle as an ``IndicatorSnapshot``. Strategies read only the
snapshot, which contains only what was known at ``snapshot.time``.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar, overload

_T = TypeVar("_T")

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class IctEvent:
    """One record of the event log (ict-spec §0, §14). Times are ms since epoch UTC."""

    id: str
    kind: str
    direction: int
    timeframe: str
    anchor_index: int
    confirm_index: int
    anchor_time: int
    confirm_time: int
    top: float | None = None
    bottom: float | None = None
    level: float | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Zone:
    """A live price zone (FVG, IFVG, order block, breaker) on one timeframe."""

    id: str
    kind: str
    direction: int
    timeframe: str
    top: float
    bottom: float
    anchor_time: int
    confirm_time: int
    touched: bool = False
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2.0

    def contains(self, price: float) -> bool:
        return self.bottom <= price <= self.top


@dataclass(frozen=True, slots=True)
class LiquidityLevel:
    """A resting liquidity level not yet taken: +1 buy-side (above highs), −1 sell-side."""

    id: str
    side: int
    level: float
    source: str
    timeframe: str
    confirm_time: int


@dataclass(frozen=True, slots=True)
class Leg:
    """The current impulse leg (§6): from ``a`` (origin) to ``b`` (extreme), with its OTE band."""

    id: str
    direction: int
    timeframe: str
    a: float
    b: float
    a_time: int
    b_time: int
    ote_top: float
    ote_bottom: float
    sweet_spot: float


class LazyTuple(Sequence[_T]):
    """A tuple whose items are built on first access (all at once): behaves as the tuple it stands for
    (equality and hash with tuples, ``+``, pickling and JSON as a tuple). Replayed snapshot views use it
    so that fields a strategy never reads cost nothing."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: tuple[_T, ...] | None = None

    def _build(self) -> tuple[_T, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _all(self) -> tuple[_T, ...]:
        items = self._items
        if items is None:
            items = self._items = self._build()
        return items

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[_T, ...]: ...

    def __getitem__(self, index: int | slice) -> _T | tuple[_T, ...]:
        return self._all()[index]

    def __iter__(self) -> Iterator[_T]:
        return iter(self._all())

    def __reversed__(self) -> Iterator[_T]:
        return reversed(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyTuple):
            other = other._all()
        return isinstance(other, tuple) and self._all() == other

    def __hash__(self) -> int:
        return hash(self._all())

    def __add__(self, other: Sequence[_T]) -> tuple[_T, ...]:
        return self._all() + tuple(other)

    def __radd__(self, other: Sequence[_T]) -> tuple[_T, ...]:
        return tuple(other) + self._all()

    def __repr__(self) -> str:
        return repr(self._all())

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple, (self._all(),)


class EventWindow(LazyTuple[IctEvent]):
    """A window ``[start, stop)`` of an event log whose records are built on first access: a view can
    expose a long recent-event window while a reader that looks only at its tail (or not at all) pays
    only for what it reads."""

    __slots__ = ("_kind_of", "_load", "_start", "_stop", "_time_of")

    def __init__(self, load: Callable[[int], IctEvent], start: int, stop: int,
                 kind_of: Callable[[int], str] | None = None, time_of: Callable[[int], int] | None = None) -> None:
        super().__init__()
        self._load = load
        self._start = start
        self._stop = stop
        # optional cheap readers of one position's kind / confirm time: ``tail`` then builds only the
        # records it returns
        self._kind_of = kind_of
        self._time_of = time_of

    def tail(self, oldest: int, kinds: Container[str] | None = None) -> list[IctEvent]:
        """The events confirmed at or after ``oldest`` (and of ``kinds``), in log order."""
        kind_of, time_of = self._kind_of, self._time_of
        if self._items is not None or kind_of is None or time_of is None:
            return _scan_tail(reversed(self), oldest, kinds)
        found: list[IctEvent] = []
        load = self._load
        for g in range(self._stop - 1, self._start - 1, -1):
            if time_of(g) < oldest:
                break
            if kinds is None or kind_of(g) in kinds:
                found.append(load(g))
        found.reverse()
        return found

    def _build(self) -> tuple[IctEvent, ...]:
        load = self._load
        return tuple([load(g) for g in range(self._start, self._stop)])

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, index: int) -> IctEvent: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[IctEvent, ...]: ...

    def __getitem__(self, index: int | slice) -> IctEvent | tuple[IctEvent, ...]:
        if isinstance(index, slice) or self._items is not None:
            return self._all()[index]
        size = self._stop - self._start
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("event window index out of range")
        return self._load(self._start + index)

    def __reversed__(self) -> Iterator[IctEvent]:
        if self._items is not None:
            return reversed(self._items)
        load = self._load
        return (load(g) for g in range(self._stop - 1, self._start - 1, -1))


def events_tail(events: Sequence[IctEvent], oldest: int, kinds: Container[str] | None = None) -> list[IctEvent]:
    """The events of a log-ordered sequence confirmed at or after ``oldest`` (and of ``kinds``), in log
    order, reading only its tail (an ``EventWindow`` builds only the records it returns)."""
    if isinstance(events, EventWindow):
        return events.tail(oldest, kinds)
    return _scan_tail(reversed(events), oldest, kinds)


def _scan_tail(newest_first: Iterator[IctEvent], oldest: int, kinds: Container[str] | None) -> list[IctEvent]:
    found: list[IctEvent] = []
    for event in newest_first:
        if event.confirm_time < oldest:
            break
        if kinds is None or event.kind in kinds:
            found.append(event)
    found.reverse()
    return found


@dataclass(frozen=True, slots=True)
class TimeframeView:
    """What is known about one timeframe at the snapshot's time."""

    timeframe: str
    last_close_time: int
    close: float
    trend: int = 0  # +1 bullish structure, −1 bearish, 0 unknown (last BOS/CHoCH direction)
    swing_trend: int = 0
    atr: float | None = None
    # zone and event sequences are tuples, or in replayed views ``LazyTuple``s built when first read
    fvgs: Sequence[Zone] = ()
    ifvgs: Sequence[Zone] = ()
    order_blocks: Sequence[Zone] = ()
    breakers: Sequence[Zone] = ()
    liquidity: tuple[LiquidityLevel, ...] = ()
    recent_events: Sequence[IctEvent] = ()
    leg: Leg | None = None
    dealing_range: tuple[float, float] | None = None  # (high, low)
    new_events: Sequence[IctEvent] = ()  # confirmed at this timeframe's latest close

    def zones(self, kind: str, direction: int | None = None) -> Sequence[Zone]:
        pool = {"fvg": self.fvgs, "ifvg": self.ifvgs, "order_block": self.order_blocks,
                "breaker": self.breakers}[kind]
        return pool if direction is None else tuple(z for z in pool if z.direction == direction)

    def last_event(self, *kinds: str, direction: int | None = None) -> IctEvent | None:
        for event in reversed(self.recent_events):
            if event.kind in kinds and (direction is None or event.direction == direction):
                return event
        return None


@dataclass(frozen=True, slots=True)
class IndicatorSnapshot:
    """Multi-timeframe state for one symbol at ``time`` (the base candle's close, ms UTC).

    A higher-timeframe view contains only HTF candles that had closed by ``time`` (ict-spec §10).
    """

    symbol: str
    time: int
    base_timeframe: str
    views: Mapping[str, TimeframeView]
    active_windows: tuple[str, ...] = ()  # sessions / killzones the base candle falls in

    def view(self, timeframe: str) -> TimeframeView | None:
        return self.views.get(timeframe)

    def in_killzone(self, *names: str) -> bool:
        if not names:
            return any(window.endswith("killzone") or window.endswith("_kz") for window in self.active_windows)
        return any(name in self.active_windows for name in names)
