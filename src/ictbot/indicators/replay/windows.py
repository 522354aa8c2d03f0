"""Session / killzone windows of every base candle at once (``SessionIndicator.active``).

A candle is in a window when its open time lies in one of the window's instances [start, end), the
instances being those ``kernels.calendar.session_tables`` lists from the first the streaming indicator
opens; names come in the indicator's window order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ictbot.indicators.kernels.calendar import session_tables
from ictbot.indicators.kernels.codes import TAGS

I64 = npt.NDArray[np.int64]


class SessionCalendar:
    def __init__(self, open_time: I64, tf_ms: int, windows: Sequence[str]) -> None:
        starts, ends, firsts, tags = session_tables(open_time, tf_ms, tuple(windows))
        self.names = tuple(TAGS[int(tag)] for tag in tags.tolist())
        bits = np.zeros(open_time.shape[0], np.int64)  # bit w set: inside window w
        for w in range(len(self.names)):
            at = np.searchsorted(starts[w], open_time, side="right") - 1
            inside = (at >= int(firsts[w])) & (open_time < ends[w][np.maximum(at, 0)])
            bits |= inside.astype(np.int64) << w
        self.bits = bits
        self._names_of: dict[int, tuple[str, ...]] = {}

    def active(self, index: int) -> tuple[str, ...]:
        bits = int(self.bits[index])
        names = self._names_of.get(bits)
        if names is None:
            names = tuple(name for w, name in enumerate(self.names) if bits >> w & 1)
            self._names_of[bits] = names
        return names

    def mask(self, names: Sequence[str]) -> npt.NDArray[np.bool_]:
        wanted = 0
        for w, name in enumerate(self.names):
            if name in names:
                wanted |= 1 << w
        inside: npt.NDArray[np.bool_] = (self.bits & wanted) != 0
        return inside
