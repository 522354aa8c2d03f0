"""Merging the per-section event matrices into the log order of ict-spec §0 and numbering ids."""

from __future__ import annotations

import numpy as np

from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels.codes import ANCHOR, CONFIRM, KIND, NF, NI, R0, R1, REF_SHIFT, TAG


@jit
def merge_kernel(parts_i, parts_f, counts, n_candles):  # type: ignore[no-untyped-def]
    """One pass from the per-slot matrices (a tuple indexed by slot) to the log: rows ordered by
    (confirm index, slot, emission order), refs remapped to final rows, the per-candle id counter
    ``n`` (occurrences of the same (kind, tag, anchor: same anchor time) earlier in the candle) and the slot column.
    """
    n_slots = counts.shape[0]
    offsets = np.zeros(n_slots, np.int64)
    total = 0
    for s in range(n_slots):
        offsets[s] = total
        total += counts[s]
    # stable counting sort on the confirm index; slots are visited in log order
    start = np.zeros(n_candles + 1, np.int64)
    for s in range(n_slots):
        part = parts_i[s]
        for g in range(counts[s]):
            start[part[g, CONFIRM] + 1] += 1
    for k in range(n_candles):
        start[k + 1] += start[k]
    pos = np.empty(total, np.int64)
    fill = start.copy()
    for s in range(n_slots):
        part = parts_i[s]
        off = offsets[s]
        for g in range(counts[s]):
            k = part[g, CONFIRM]
            pos[off + g] = fill[k]
            fill[k] += 1
    out_i = np.empty((total, NI), np.int32)
    out_f = np.empty((total, NF), np.float64)
    slot = np.empty(total, np.int8)
    mask = (np.int64(1) << REF_SHIFT) - 1
    for s in range(n_slots):
        part = parts_i[s]
        part_f = parts_f[s]
        off = offsets[s]
        for g in range(counts[s]):
            row = pos[off + g]
            for col in range(NI):
                out_i[row, col] = part[g, col]
            for col in range(NF):
                out_f[row, col] = part_f[g, col]
            for col in (R0, R1):
                ref = part[g, col]
                if ref >= 0:
                    out_i[row, col] = pos[offsets[ref >> REF_SHIFT] + (ref & mask)]
            slot[row] = s
    n = np.zeros(total, np.int32)
    for k in range(n_candles):
        a0 = start[k]
        a1 = start[k + 1]
        for a in range(a0 + 1, a1):
            m = 0
            for b in range(a0, a):
                if out_i[b, KIND] == out_i[a, KIND] and out_i[b, TAG] == out_i[a, TAG] \
                        and out_i[b, ANCHOR] == out_i[a, ANCHOR]:
                    m += 1
            n[a] = m
    return out_i, out_f, slot, n
