"""Event ids (§0: ``tf:kind:tag:anchor_time:confirm_time:n``) of chosen kernel rows, as an Arrow string array.

The export needs them for every row and again for every reference column (``parent_id`` ...), so a
compiled kernel (``kernels.idtext``, loaded with the other kernels) writes them straight into the
Arrow string buffer; the ``tf:kind:tag:`` prefix of every (kind, tag) pair comes from a small table
made once per export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ictbot.indicators.kernels.codes import KINDS, TAGS

if TYPE_CHECKING:
    from ictbot.indicators.kernels.batch import KernelColumns

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]


class EventIds:
    """Formats the ids of one ``KernelColumns``' rows (the prefix table is built once)."""

    def __init__(self, cols: KernelColumns) -> None:
        self.cols = cols
        texts = [f"{cols.tf}:{kind}:{tag}:".encode() for kind in KINDS for tag in TAGS]
        self.prefix = np.frombuffer(b"".join(text.ljust(max(map(len, texts)), b"\0") for text in texts),
                                    np.uint8).reshape(len(texts), -1)
        self.prefix_len = np.array([len(text) for text in texts], np.int64)

    def of(self, rows: I64, valid: Mask | None = None) -> pa.Array:
        """The id of row ``rows[k]`` at position k (null where ``valid`` is False)."""
        from ictbot.indicators.kernels.idtext import id_text

        keep = np.ones(len(rows), np.bool_) if valid is None else np.ascontiguousarray(valid, np.bool_)
        cols = self.cols
        offsets, data = id_text(cols.ints, cols.n, cols.open_time, cols.tf_ms,
                                np.ascontiguousarray(rows, np.int64), keep, self.prefix, self.prefix_len, len(TAGS))
        nulls = int(len(keep) - np.count_nonzero(keep))
        validity = pa.py_buffer(np.packbits(keep, bitorder="little")) if nulls else None
        return pa.Array.from_buffers(pa.string(), len(keep), [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                     null_count=nulls)


def event_ids(cols: KernelColumns, rows: I64, valid: Mask | None = None) -> pa.Array:
    """The ids of ``cols``' rows ``rows`` (null where ``valid`` is False)."""
    return EventIds(cols).of(rows, valid)
