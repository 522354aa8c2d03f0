"""Lazy per-row access to kernel event columns: ids, ``Event`` and ``IctEvent`` built on first use.

``kernels.convert.to_events`` builds every event of a series (≈ 5 µs each); a replayed snapshot shows a
few hundred of them, so rows are converted one by one, with the same field builders, on demand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.ict import IctEvent, make_event
from ictbot.indicators.events import Event
from ictbot.indicators.kernels.batch import KernelColumns
from ictbot.indicators.kernels.codes import (
    ANCHOR,
    B0,
    B1,
    BOTTOM,
    CONFIRM,
    DIR,
    F0,
    F1,
    I0,
    I1,
    KIND,
    KINDS,
    LEVEL,
    R0,
    R1,
    TAG,
    TAGS,
    TOP,
)
from ictbot.indicators.kernels.convert import _HAS_LEVEL, _NO_RANGE, _builders

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class _Column:
    """``column[g]`` as a Python scalar (the field builders index plain lists)."""

    __slots__ = ("__getitem__",)

    def __init__(self, values: npt.NDArray[Any]) -> None:
        self.__getitem__ = values.item  # type: ignore[method-assign]


class _Ids:
    __slots__ = ("_rows",)

    def __init__(self, rows: EventRows) -> None:
        self._rows = rows

    def __getitem__(self, g: int) -> str:
        return self._rows.event_id(g)


class _Members:
    """Pool member slices without converting the whole member array."""

    __slots__ = ("_values",)

    def __init__(self, values: I64) -> None:
        self._values = values

    def __getitem__(self, span: slice) -> list[int]:
        return self._values[span].tolist()  # type: ignore[no-any-return]


class EventRows:
    """The rows of one timeframe's ``KernelColumns`` with numpy columns and lazily built records."""

    def __init__(self, cols: KernelColumns) -> None:
        self.cols = cols
        ints, floats = cols.ints, cols.floats
        self.kind: I64 = ints[:, KIND].astype(np.int64)
        self.direction: I64 = ints[:, DIR].astype(np.int64)
        self.tag: I64 = ints[:, TAG].astype(np.int64)
        self.anchor: I64 = ints[:, ANCHOR].astype(np.int64)
        self.confirm: I64 = ints[:, CONFIRM].astype(np.int64)
        self.ref0: I64 = ints[:, R0].astype(np.int64)
        self.ref1: I64 = ints[:, R1].astype(np.int64)
        self.b0: I64 = ints[:, B0].astype(np.int64)
        self.top: F64 = floats[:, TOP]
        self.bottom: F64 = floats[:, BOTTOM]
        self.level: F64 = floats[:, LEVEL]
        self.f0: F64 = floats[:, F0]
        self.f1: F64 = floats[:, F1]
        self.tf = cols.tf
        self.tf_ms = cols.tf_ms
        self._kind_prefix = [f"{cols.tf}:{k}:" for k in KINDS]
        self._tag_names = [f"{t}:" for t in TAGS]
        columns = {name: _Column(ints[:, col]) for name, col in (
            ("kind", KIND), ("dir", DIR), ("tag", TAG), ("anchor", ANCHOR), ("confirm", CONFIRM), ("i0", I0),
            ("i1", I1), ("r0", R0), ("r1", R1), ("b0", B0), ("b1", B1))}
        columns.update({name: _Column(floats[:, col]) for name, col in (
            ("top", TOP), ("bottom", BOTTOM), ("level", LEVEL), ("f0", F0), ("f1", F1))})
        self._builders = _builders(columns, _Ids(self), _Members(cols.members))  # type: ignore[arg-type]
        self._ids: dict[int, str] = {}
        self._events: dict[int, Event] = {}
        self._ict: dict[int, IctEvent] = {}

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    def open_time(self, index: int) -> int:
        return int(self.cols.open_time[index])

    def event_id(self, g: int) -> str:
        """``tf:kind:tag:anchor_time:confirm_time:n`` of row ``g`` (ict-spec §0)."""
        text = self._ids.get(g)
        if text is None:
            cols = self.cols
            anchor_time = int(cols.open_time[int(self.anchor[g])])
            confirm_time = int(cols.open_time[int(self.confirm[g])]) + cols.tf_ms
            text = (f"{self._kind_prefix[int(self.kind[g])]}{self._tag_names[int(self.tag[g])]}"
                    f"{anchor_time}:{confirm_time}:{int(cols.n[g])}")
            self._ids[g] = text
        return text

    def event(self, g: int) -> Event:
        """Row ``g`` as the ``Event`` that ``suite.compute`` (and the streaming engine) produces."""
        event = self._events.get(g)
        if event is None:
            cols = self.cols
            kind = KINDS[int(self.kind[g])]
            anchor, confirm = int(self.anchor[g]), int(self.confirm[g])
            ranged = kind not in _NO_RANGE
            event = Event(self.event_id(g), kind, int(self.direction[g]), cols.tf, anchor, confirm,
                          int(cols.open_time[anchor]), int(cols.open_time[confirm]) + cols.tf_ms,
                          cols.hashes[int(cols.slot[g])], float(self.top[g]) if ranged else None,
                          float(self.bottom[g]) if ranged else None,
                          float(self.level[g]) if kind in _HAS_LEVEL else None, self._builders[kind](g))
            self._events[g] = event
        return event

    def ict(self, g: int, base_confirm_index: int | None = None) -> IctEvent:
        """Row ``g`` as the snapshot's ``IctEvent`` (``TimeframeState.convert``: fields, ``params_hash``
        and, for a higher timeframe, the base candle ``base_confirm_index`` at which it became visible)."""
        record = self._ict.get(g)
        if record is None:
            event = self.event(g)
            extra: dict[str, Any] = {**event.fields, "params_hash": event.params_hash}
            if base_confirm_index is not None:
                extra["base_confirm_index"] = base_confirm_index
            record = make_event(event.id, event.kind, event.direction, event.tf, event.anchor_index,
                                event.confirm_index, event.anchor_time, event.confirm_time, event.top,
                                event.bottom, event.level, extra)
            self._ict[g] = record
        return record
