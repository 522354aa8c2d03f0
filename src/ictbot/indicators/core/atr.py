"""Wilder's ATR (ict-spec §0): seed = left-to-right mean of the first n true ranges."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

NAN = math.nan


class AtrState:
    """Streaming ATR; ``value`` is NaN until ``n`` candles have been seen."""

    __slots__ = ("count", "n", "prev_close", "seed_sum", "value")

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.seed_sum = 0.0
        self.prev_close = NAN
        self.value = NAN

    def update(self, h: float, lo: float, c: float) -> float:
        if self.count == 0:
            tr = h - lo
        else:
            pc = self.prev_close
            tr = max(h - lo, abs(h - pc), abs(lo - pc))
        self.prev_close = c
        self.count += 1
        n = self.n
        if self.count < n:
            self.seed_sum += tr
        elif self.count == n:
            self.seed_sum += tr
            self.value = self.seed_sum / n
        else:
            self.value = (self.value * (n - 1) + tr) / n
        return self.value


def atr(h: npt.NDArray[np.float64], lo: npt.NDArray[np.float64], c: npt.NDArray[np.float64],
        n: int = 14) -> npt.NDArray[np.float64]:
    """Batch ATR: the fold of ``AtrState.update`` (NaN before index n−1)."""
    state = AtrState(n)
    out = np.empty(h.shape[0], dtype=np.float64)
    update = state.update
    for i, (hi, low, close) in enumerate(zip(h.tolist(), lo.tolist(), c.tolist(), strict=True)):
        out[i] = update(hi, low, close)
    return out
