"""Event records of the indicator log (ict-spec §0, §14) and the per-candle id factory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ictbot.domain.ict import IctEvent

Fields = dict[str, Any]


class Event:
    """One append-only log record. ``fields`` holds the kind-specific values of §14."""

    __slots__ = ("anchor_index", "anchor_time", "bottom", "confirm_index", "confirm_time", "direction",
                 "fields", "id", "kind", "level", "params_hash", "tf", "top")

    def __init__(self, id: str, kind: str, direction: int, tf: str, anchor_index: int, confirm_index: int,
                 anchor_time: int, confirm_time: int, params_hash: str, top: float | None,
                 bottom: float | None, level: float | None, fields: Fields) -> None:
        self.id = id
        self.kind = kind
        self.direction = direction
        self.tf = tf
        self.anchor_index = anchor_index
        self.confirm_index = confirm_index
        self.anchor_time = anchor_time
        self.confirm_time = confirm_time
        self.params_hash = params_hash
        self.top = top
        self.bottom = bottom
        self.level = level
        self.fields = fields

    def key(self) -> tuple[Any, ...]:
        return (self.id, self.kind, self.direction, self.tf, self.anchor_index, self.confirm_index,
                self.anchor_time, self.confirm_time, self.params_hash, self.top, self.bottom, self.level,
                tuple(sorted(self.fields.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return (f"Event({self.id!r}, dir={self.direction}, a={self.anchor_index}, c={self.confirm_index}, "
                f"top={self.top!r}, bottom={self.bottom!r}, level={self.level!r}{', ' + extra if extra else ''})")

    def shifted(self, offset: int) -> Event:
        """The same event with every index field shifted by ``offset`` (warm-start comparisons)."""
        fields = {k: (v + offset if k in _INDEX_FIELDS and isinstance(v, int) and not isinstance(v, bool)
                      else [m + offset for m in v] if k == "members" else v) for k, v in self.fields.items()}
        return Event(self.id, self.kind, self.direction, self.tf, self.anchor_index + offset,
                     self.confirm_index + offset, self.anchor_time, self.confirm_time, self.params_hash,
                     self.top, self.bottom, self.level, fields)

    def to_row(self) -> dict[str, Any]:
        """Flat export row (§14): ISO-8601 UTC times, 0-based indexes, kind-specific columns."""
        row: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "direction": self.direction, "tf": self.tf,
            "anchor_time": iso_utc(self.anchor_time), "confirm_time": iso_utc(self.confirm_time),
            "anchor_index": self.anchor_index, "confirm_index": self.confirm_index,
            "top": self.top, "bottom": self.bottom, "level": self.level, "params_hash": self.params_hash,
        }
        for name, value in self.fields.items():
            row[name] = list(value) if isinstance(value, tuple) else value
        return row

    def to_ict(self) -> IctEvent:
        extra: dict[str, Any] = dict(self.fields)
        extra["params_hash"] = self.params_hash
        return IctEvent(self.id, self.kind, self.direction, self.tf, self.anchor_index, self.confirm_index,
                        self.anchor_time, self.confirm_time, self.top, self.bottom, self.level, extra)


_INDEX_FIELDS = frozenset({"swing_anchor_index", "swing_confirm_index", "source_confirm_index", "taken_index",
                           "high_index", "low_index"})


def iso_utc(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "Z"


class EventFactory:
    """Builds events of the current candle with ids ``tf:kind:tag:anchor_time:confirm_time:n`` (§0)."""

    __slots__ = ("_counts", "_tail", "_times", "confirm_time", "index", "tf", "tf_ms")

    def __init__(self, tf: str, tf_ms: int) -> None:
        self.tf = tf
        self.tf_ms = tf_ms
        self.index = -1
        self.confirm_time = 0
        # first ids (n = 0) made at the current candle, mapped to the next ``n`` (kind and tag never contain
        # ':', so such an id identifies (kind, tag, anchor_time) exactly)
        self._counts: dict[str, int] = {}
        self._tail = ":0:"  # ":confirm_time:" of the current candle, formatted once per candle
        # anchor time -> its decimal text: int formatting is the dearest part of an id, and most events
        # of a candle anchor at a time an earlier event already used
        self._times: dict[int, str] = {}

    def begin(self, index: int, open_time: int) -> None:
        self.index = index
        confirm_time = open_time + self.tf_ms
        self.confirm_time = confirm_time
        self._tail = f":{confirm_time}:"
        if self._counts:
            self._counts = {}

    def make(self, kind: str, direction: int, tag: str, anchor_index: int, anchor_time: int, params_hash: str,
             top: float | None = None, bottom: float | None = None, level: float | None = None,
             fields: Mapping[str, Any] | None = None) -> Event:
        times = self._times
        text = times.get(anchor_time)
        if text is None:
            if len(times) >= 256:  # bounded; 4,096 took months to fill on 1h/4h (≈ 0.5 MB per timeframe)
                times.clear()
            text = times[anchor_time] = str(anchor_time)
        # the id with n = 0 doubles as the key of its (kind, tag, anchor_time) in ``_counts``
        event_id = f"{self.tf}:{kind}:{tag}:{text}{self._tail}0"
        counts = self._counts
        n = counts.get(event_id)
        if n is None:
            counts[event_id] = 1
        else:
            counts[event_id] = n + 1
            event_id = event_id[:-1] + str(n)
        # the fields of ``Event.__init__`` stored inline: one call frame less per event (≈ 4 per candle)
        event = _new_event(Event)
        event.id = event_id
        event.kind = kind
        event.direction = direction
        event.tf = self.tf
        event.anchor_index = anchor_index
        event.confirm_index = self.index
        event.anchor_time = anchor_time
        event.confirm_time = self.confirm_time
        event.params_hash = params_hash
        event.top = top
        event.bottom = bottom
        event.level = level
        # callers pass a fresh dict per event; it becomes the event's own field mapping
        event.fields = fields if fields.__class__ is dict else dict(fields or {})
        return event


_new_event = object.__new__
