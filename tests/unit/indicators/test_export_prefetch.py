"""``export.prefetch.prefetched``: the export's slices built in a thread keep their order, hand the
producer's error to the writer, and stop the producer when the writer stops early."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ictbot.indicators.export.prefetch import prefetched


def test_items_come_in_order_from_another_thread() -> None:
    producers: set[str] = set()

    def items() -> Iterator[int]:
        for k in range(50):
            producers.add(threading.current_thread().name)
            yield k

    assert list(prefetched(items(), depth=2)) == list(range(50))
    assert producers == {"ictbot-export-slices"}


def test_the_producers_error_is_raised_at_the_item_it_failed_on() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("slice 3 is broken")

    got: list[int] = []
    with pytest.raises(ValueError, match="slice 3 is broken"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for k in range(10_000):
            produced.append(k)
            yield k

    stream = prefetched(items(), depth=2)
    assert next(stream) == 0
    stream.close()  # what a writer's error or break does to the generator
    assert not any(t.name == "ictbot-export-slices" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= 5  # the queue's depth ahead, not the whole series
