"""Bounded history of the most recent candles, addressed by absolute candle index."""

from __future__ import annotations


class History:
    """Keeps at least the last ``keep`` candles; amortised O(1) append.

    Indicators that need a short look-back (pivot windows, seeding a running extreme from the last
    R candles) read it through absolute indexes; older candles are dropped in blocks.
    """

    __slots__ = ("base", "c", "h", "keep", "l", "o", "t")

    def __init__(self, keep: int) -> None:
        self.keep = max(keep, 4)
        self.base = 0
        self.t: list[int] = []
        self.o: list[float] = []
        self.h: list[float] = []
        self.l: list[float] = []
        self.c: list[float] = []

    def append(self, t: int, o: float, h: float, lo: float, c: float) -> None:
        self.t.append(t)
        self.o.append(o)
        self.h.append(h)
        self.l.append(lo)
        self.c.append(c)
        if len(self.t) > 4 * self.keep:
            self.append_trim()

    def append_trim(self) -> None:
        """Drop all but the last ``keep`` candles (called once more than 4 × keep are held)."""
        drop = len(self.t) - self.keep
        del self.t[:drop], self.o[:drop], self.h[:drop], self.l[:drop], self.c[:drop]
        self.base += drop

    @property
    def count(self) -> int:
        """Number of candles appended so far (= index of the next candle)."""
        return self.base + len(self.t)
