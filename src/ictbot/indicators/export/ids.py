"""Event ids (§0: ``tf:kind:tag:anchor_time:confirm_time:n``) of chosen kernel rows, as an Arrow string array.

The export needs them for every row and again for every reference column (``parent_id`` ...), so
they are written straight into an Arrow string buffer with numpy: one padded byte row per id, whose
pieces are gathered from small tables made once per export (the ``tf:kind:tag:`` prefix of every
(kind, tag) pair, the 13 digits of every candle's anchor and confirm time, the digits of every
``n``); dropping the padding leaves the concatenated ids. Times outside 13 digits (before 2001-09-09
or after 2286) take the slower Arrow path, which formats any integer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ictbot.indicators.kernels.codes import ANCHOR, CONFIRM, KIND, KINDS, TAG, TAGS

if TYPE_CHECKING:
    from ictbot.indicators.kernels.batch import KernelColumns

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]

_TIME_DIGITS = 13


class EventIds:
    """Formats the ids of one ``KernelColumns``' rows (the lookup tables are built once)."""

    def __init__(self, cols: KernelColumns) -> None:
        self.cols = cols
        times = cols.open_time
        self.fast = bool(len(times) == 0 or (times[0] >= 10 ** (_TIME_DIGITS - 1)
                                             and times[-1] + cols.tf_ms < 10 ** _TIME_DIGITS))
        if not self.fast:
            return
        self.anchor = _digits(times, _TIME_DIGITS)
        self.confirm = _digits(times + cols.tf_ms, _TIME_DIGITS)
        texts = [f"{cols.tf}:{kind}:{tag}:".encode() for kind in KINDS for tag in TAGS]
        self.prefix = np.frombuffer(b"".join(text.ljust(max(map(len, texts)), b"\0") for text in texts),
                                    np.uint8).reshape(len(texts), -1)
        self.prefix_len = np.array([len(text) for text in texts], np.int64)
        top = int(cols.n.max()) if len(cols.n) else 0
        self.n_width = len(str(top))
        self.n_text = _digits(np.arange(top + 1, dtype=np.int64), self.n_width)
        self.n_len = np.array([len(str(k)) for k in range(top + 1)], np.int64)

    def of(self, rows: I64, valid: Mask | None = None) -> pa.Array:
        """The id of row ``rows[k]`` at position k (null where ``valid`` is False)."""
        keep = np.ones(len(rows), np.bool_) if valid is None else valid
        if not self.fast:
            return _arrow_ids(self.cols, rows, keep)
        picked = rows[keep]
        ints = self.cols.ints
        pair = ints[picked, KIND].astype(np.int64) * len(TAGS) + ints[picked, TAG]
        n = self.cols.n[picked]
        width_p = self.prefix.shape[1]
        pieces = [self.prefix[pair], self.anchor[ints[picked, ANCHOR]], _colon(len(picked)),
                  self.confirm[ints[picked, CONFIRM]], _colon(len(picked)), self.n_text[n]]
        matrix = np.concatenate(pieces, axis=1)
        used = np.ones(matrix.shape, np.bool_)
        used[:, :width_p] = np.arange(width_p)[None, :] < self.prefix_len[pair][:, None]
        used[:, -self.n_width:] = np.arange(self.n_width)[None, :] < self.n_len[n][:, None]
        lengths = self.prefix_len[pair] + 2 * (_TIME_DIGITS + 1) + self.n_len[n]
        return _string_array(keep, lengths, matrix[used])


def event_ids(cols: KernelColumns, rows: I64, valid: Mask | None = None) -> pa.Array:
    """The ids of ``cols``' rows ``rows`` (null where ``valid`` is False)."""
    return EventIds(cols).of(rows, valid)


def _digits(values: I64, width: int) -> U8:
    """The decimal digits of each value, left-aligned in ``width`` bytes (zero bytes after)."""
    return np.ascontiguousarray(values.astype(f"S{width}")).view(np.uint8).reshape(len(values), width)


def _colon(count: int) -> U8:
    return np.full((count, 1), ord(":"), np.uint8)


def _string_array(keep: Mask, lengths: I64, data: U8) -> pa.Array:
    """A string array of ``len(keep)`` values: the given ones where ``keep``, null elsewhere."""
    full = np.zeros(len(keep), np.int64)
    full[keep] = lengths
    offsets = np.zeros(len(keep) + 1, np.int32)
    np.cumsum(full, out=offsets[1:])
    nulls = int(len(keep) - np.count_nonzero(keep))
    validity = pa.py_buffer(np.packbits(keep, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(pa.string(), len(keep), [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                 null_count=nulls)


def _arrow_ids(cols: KernelColumns, rows: I64, keep: Mask) -> pa.Array:
    """The same ids with Arrow's integer formatting (any number of digits)."""
    ints = cols.ints
    safe = np.where(keep, rows, 0)
    kinds = ints[safe, KIND].astype(np.int64)
    prefix = pa.array([f"{cols.tf}:{kind}" for kind in KINDS], pa.string())
    anchor = cols.open_time[ints[safe, ANCHOR]]
    confirm = cols.open_time[ints[safe, CONFIRM]] + cols.tf_ms
    tags = pa.array(ints[safe, TAG], pa.int64())
    parts = [pc.take(prefix, pa.array(kinds)), pc.take(pa.array(TAGS, pa.string()), tags),
             pc.cast(pa.array(anchor), pa.string()), pc.cast(pa.array(confirm), pa.string()),
             pc.cast(pa.array(cols.n[safe].astype(np.int64)), pa.string())]
    ids = pc.binary_join_element_wise(*parts, ":")
    return pc.if_else(pa.array(keep), ids, pa.scalar(None, pa.string()))
