"""The signals the risk stage has seen, indexed for the duplicate checks.

A live strategy may emit a signal on every candle, so a day's window can hold thousands. The
validator's duplicate checks only ever match entries with the same signal id, or accepted entries of
the same (strategy, symbol, direction) whose signal time lies within the duplicate window before the
new signal's; ``relevant_to`` hands it exactly those, in arrival order, so its verdict is the one a
scan of the whole log would give, at a cost independent of the log's size.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque

from ictbot.domain.signal import Direction, Signal
from ictbot.risk.state import RecentSignal

_Key = tuple[str, str, Direction]
_Entry = tuple[int, RecentSignal]  # (arrival number, signal)


class RecentSignalLog:
    """Signals in arrival order (oldest dropped first) with per-id and per-key indexes."""

    __slots__ = ("_accepted", "_by_id", "_capacity", "_log", "_seq")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._log: deque[tuple[int, int, RecentSignal]] = deque()  # (seen at ms, arrival number, signal)
        self._by_id: dict[str, deque[_Entry]] = {}
        # accepted entries per key, sorted by (signal time, arrival number)
        self._accepted: dict[_Key, list[tuple[int, int, RecentSignal]]] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._log)

    def add(self, seen_at: int, recent: RecentSignal) -> None:
        if len(self._log) >= self._capacity:
            self._drop_oldest()
        seq = self._seq
        self._seq += 1
        self._log.append((seen_at, seq, recent))
        self._by_id.setdefault(recent.id, deque()).append((seq, recent))
        if recent.accepted:
            insort(self._accepted.setdefault(_key_of(recent), []), (recent.time, seq, recent))

    def expire(self, now: int, window_ms: int) -> None:
        """Forget what was seen more than ``window_ms`` before ``now``."""
        log = self._log
        while log and now - log[0][0] > window_ms:
            self._drop_oldest()

    def all(self) -> tuple[RecentSignal, ...]:
        return tuple(recent for _, _, recent in self._log)

    def relevant_to(self, signal: Signal, window_ms: int) -> tuple[RecentSignal, ...]:
        """The entries a duplicate check of ``signal`` can match, in arrival order, each once: the same
        id, or accepted with the same strategy, symbol and direction and a signal time ``t`` with
        ``0 <= signal.time - t < window_ms`` (pass the largest window the checks will use)."""
        same_id = self._by_id.get(signal.id)
        found: list[_Entry] = list(same_id) if same_id else []
        same_key = self._accepted.get((signal.strategy_id, signal.symbol, signal.direction))
        if same_key and window_ms > 0:
            low = bisect_right(same_key, (signal.time - window_ms, math.inf))
            high = bisect_right(same_key, (signal.time, math.inf))
            if low < high:
                found += [(seq, recent) for _, seq, recent in same_key[low:high]]
                return tuple(dict(sorted(found, key=lambda entry: entry[0])).values())
        return tuple(recent for _, recent in found)

    def _drop_oldest(self) -> None:
        _, seq, recent = self._log.popleft()
        entries = self._by_id[recent.id]
        entries.popleft()  # the log drops oldest first, so it heads its id's list
        if not entries:
            del self._by_id[recent.id]
        if recent.accepted:
            key = _key_of(recent)
            ordered = self._accepted[key]
            del ordered[bisect_left(ordered, (recent.time, seq))]
            if not ordered:
                del self._accepted[key]


def _key_of(recent: RecentSignal) -> _Key:
    return (recent.strategy_id, recent.symbol, recent.direction)

