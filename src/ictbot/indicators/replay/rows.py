"""Lazy per-row access to kernel event columns: ids, fields and ``IctEvent`` built on first use.

``kernels.convert.to_events`` builds every event of a series (≈ 5 µs each); a replayed snapshot shows a
few hundred of them, so rows are converted one by one, with the same field builders, on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.ict import IctEvent
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
        self.__getitem__ = values.item


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
        self._readers: dict[str, Any] | None = None  # scalar readers per column, made at the first conversion
        self._builders: dict[str, Callable[[int], dict[str, Any]]] = {}
        self._ids: dict[int, str] = {}

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    def open_time(self, index: int) -> int:
        return int(self.cols.open_time[index])

    def _columns(self) -> dict[str, Any]:
        """Per column an indexable giving Python scalars (``column[g]``), made at the first conversion.

        A series has far more rows than a backtest ever shows, so no column is turned into a list:
        each converted row reads its dozen scalars straight from the kernel's matrices.
        """
        columns = self._readers
        if columns is None:
            cols = self.cols
            ints, floats = cols.ints, cols.floats
            columns = {name: _Column(ints[:, col]) for name, col in (
                ("kind", KIND), ("dir", DIR), ("tag", TAG), ("anchor", ANCHOR), ("confirm", CONFIRM), ("i0", I0),
                ("i1", I1), ("r0", R0), ("r1", R1), ("b0", B0), ("b1", B1))}
            columns.update({name: _Column(floats[:, col]) for name, col in (
                ("top", TOP), ("bottom", BOTTOM), ("level", LEVEL), ("f0", F0), ("f1", F1))})
            columns["open"] = _Column(cols.open_time)
            columns["n"] = _Column(cols.n)
            columns["slot"] = _Column(cols.slot)
            columns["hash"] = list(cols.hashes)
            self._readers = columns
            self._builders = _builders(columns, _Ids(self), _Members(cols.members))  # type: ignore[arg-type]
        return columns

    def event_id(self, g: int) -> str:
        """``tf:kind:tag:anchor_time:confirm_time:n`` of row ``g`` (ict-spec §0)."""
        text = self._ids.get(g)
        if text is None:
            c = self._readers or self._columns()
            opens = c["open"]
            text = (f"{self._kind_prefix[c['kind'][g]]}{self._tag_names[c['tag'][g]]}"
                    f"{opens[c['anchor'][g]]}:{opens[c['confirm'][g]] + self.tf_ms}:{c['n'][g]}")
            self._ids[g] = text
        return text

    def fields(self, g: int) -> dict[str, Any]:
        """Row ``g``'s kind-specific fields (``Event.fields``), a fresh dict."""
        c = self._readers or self._columns()
        return self._builders[KINDS[c["kind"][g]]](g)

    def ict(self, g: int, base_confirm_index: int | None = None) -> IctEvent:
        """Row ``g`` as the snapshot's ``IctEvent`` (``TimeframeState.convert``: the event's fields,
        ``params_hash`` and, for a higher timeframe, the base candle ``base_confirm_index`` at which it
        became visible); the snapshot tests compare these records with the streaming engine's. Not cached
        here: callers keep the records they hand out."""
        c = self._readers or self._columns()
        kind = KINDS[c["kind"][g]]
        anchor, confirm = c["anchor"][g], c["confirm"][g]
        ranged = kind not in _NO_RANGE
        opens = c["open"]
        extra = self._builders[kind](g)
        extra["params_hash"] = c["hash"][c["slot"][g]]
        if base_confirm_index is not None:
            extra["base_confirm_index"] = base_confirm_index
        return IctEvent(self.event_id(g), kind, c["dir"][g], self.tf, anchor, confirm, opens[anchor],
                        opens[confirm] + self.tf_ms, c["top"][g] if ranged else None,
                        c["bottom"][g] if ranged else None, c["level"][g] if kind in _HAS_LEVEL else None, extra)
