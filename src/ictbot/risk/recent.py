"""The signals the risk stage has seen, indexed for the duplicate checks.

A live strategy may emit a signal on every candle, so a day's window can hold thousands. The
validator's duplicate checks only ever match entries with the same signal id or accepted entries of
the same (strategy, symbol, direction); ``relevant_to`` hands it exactly those, in arrival order, so
its result is the one a scan of the whole log would give, at a cost independent of the log's size.
"""

from __future__ import annotations

from collections import deque
from typing import TypeVar

from ictbot.domain.signal import Direction, Signal
from ictbot.risk.state import RecentSignal

_Key = tuple[str, str, Direction]
_K = TypeVar("_K")
_Entry = tuple[int, RecentSignal]  # (arrival number, signal)


class RecentSignalLog:
    """Signals in arrival order (oldest dropped first) with per-id and per-key indexes."""

    __slots__ = ("_accepted", "_by_id", "_capacity", "_log", "_seq")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._log: deque[tuple[int, int, RecentSignal]] = deque()  # (seen at ms, arrival number, signal)
        self._by_id: dict[str, deque[_Entry]] = {}
        self._accepted: dict[_Key, deque[_Entry]] = {}
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
            self._accepted.setdefault(_key_of(recent), deque()).append((seq, recent))

    def expire(self, now: int, window_ms: int) -> None:
        """Forget what was seen more than ``window_ms`` before ``now``."""
        log = self._log
        while log and now - log[0][0] > window_ms:
            self._drop_oldest()

    def all(self) -> tuple[RecentSignal, ...]:
        return tuple(recent for _, _, recent in self._log)

    def relevant_to(self, signal: Signal) -> tuple[RecentSignal, ...]:
        """The entries a duplicate check of ``signal`` can match (same id, or accepted with the same
        strategy, symbol and direction), in arrival order, each once."""
        same_id = self._by_id.get(signal.id)
        same_key = self._accepted.get((signal.strategy_id, signal.symbol, signal.direction))
        if not same_key:
            return tuple(recent for _, recent in same_id) if same_id else ()
        if not same_id:
            return tuple(recent for _, recent in same_key)
        merged = dict(sorted((*same_id, *same_key), key=lambda entry: entry[0]))
        return tuple(merged.values())

    def _drop_oldest(self) -> None:
        _, seq, recent = self._log.popleft()
        _pop_head(self._by_id, recent.id, seq)
        if recent.accepted:
            _pop_head(self._accepted, _key_of(recent), seq)


def _key_of(recent: RecentSignal) -> _Key:
    return (recent.strategy_id, recent.symbol, recent.direction)


def _pop_head(index: dict[_K, deque[_Entry]], key: _K, seq: int) -> None:
    entries = index.get(key)
    if entries and entries[0][0] == seq:  # the log drops oldest first, so it heads its index lists
        entries.popleft()
        if not entries:
            del index[key]
