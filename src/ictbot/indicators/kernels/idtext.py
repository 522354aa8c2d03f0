"""The §0 ids of chosen event rows written as text into one byte buffer (Arrow string layout).

``tf:kind:tag:anchor_time:confirm_time:n``: the ``tf:kind:tag:`` prefix of each (kind, tag) pair comes
from a table made once per export (``prefix``, one zero-padded byte row per pair: kind * tags + tag),
the three integers are formatted here, any sign and number of digits. One pass measures, one writes.
"""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.codes import ANCHOR, CONFIRM, KIND, TAG

COLON = 58  # ord(":")
MINUS = 45  # ord("-")
ZERO = 48  # ord("0")


@jit
def _width(value):  # type: ignore[no-untyped-def]
    """Characters of ``value`` in decimal (with its minus sign)."""
    width = 1 if value < 0 else 0
    magnitude = -value if value < 0 else value
    width += 1
    while magnitude >= 10:
        magnitude //= 10
        width += 1
    return width


@jit
def _write_int(data, pos, value):  # type: ignore[no-untyped-def]
    """``value`` in decimal at ``data[pos:]``; the position after it."""
    if value < 0:
        data[pos] = MINUS
        pos += 1
        value = -value
    end = pos + _width(value)
    k = end - 1
    while True:
        data[k] = ZERO + value % 10
        value //= 10
        k -= 1
        if value == 0:
            break
    return end


@jit
def id_text(ints, n, open_time, tf_ms, rows, keep, prefix, prefix_len, tags):  # type: ignore[no-untyped-def]
    """(int32 offsets, uint8 text) of the ids of ``rows`` (an empty string where not ``keep``: the
    caller marks those null)."""
    count = rows.shape[0]
    offsets = np.zeros(count + 1, np.int32)
    total = 0
    for k in range(count):
        if keep[k]:
            r = rows[k]
            pair = ints[r, KIND] * tags + ints[r, TAG]
            anchor_ms = open_time[ints[r, ANCHOR]]
            confirm_ms = open_time[ints[r, CONFIRM]] + tf_ms
            total += prefix_len[pair] + _width(anchor_ms) + _width(confirm_ms) + _width(n[r]) + 2
        offsets[k + 1] = total
    data = np.empty(total, np.uint8)
    pos = 0
    for k in range(count):
        if keep[k]:
            r = rows[k]
            pair = ints[r, KIND] * tags + ints[r, TAG]
            for b in range(prefix_len[pair]):
                data[pos + b] = prefix[pair, b]
            pos = _write_int(data, pos + prefix_len[pair], open_time[ints[r, ANCHOR]])
            data[pos] = COLON
            pos = _write_int(data, pos + 1, open_time[ints[r, CONFIRM]] + tf_ms)
            data[pos] = COLON
            pos = _write_int(data, pos + 1, n[r])
    return offsets, data
