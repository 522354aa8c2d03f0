"""Building the next slices of an export in a thread while the caller writes the current one.

The slices are built by numpy and Arrow (much of it outside the GIL) and written by Arrow's parquet /
IPC writers (C++, outside the GIL): on two cores the two overlap instead of taking turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import Any, TypeVar

Item = TypeVar("Item")

_POLL_SECONDS = 0.05  # how often a producer blocked on a full queue looks whether the consumer left


def prefetched(items: Iterable[Item], depth: int = 2) -> Generator[Item, None, None]:
    """``items`` in order, produced by a thread at most ``depth`` ahead of the consumer (memory: ``depth``
    + 2 items alive at once). An error of the producer is raised here, at the item it failed on; when the
    consumer stops early (an error, ``break``), the producer stops after its current item."""
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(slots, ("item", item), stop):
                    return
            _put(slots, ("done", None), stop)
        except BaseException as exc:  # handed to the consumer
            _put(slots, ("error", exc), stop)

    thread = threading.Thread(target=produce, name="ictbot-export-slices", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def _put(slots: queue.Queue[tuple[str, Any]], entry: tuple[str, Any], stop: threading.Event) -> bool:
    """Put ``entry`` unless the consumer has left (False then)."""
    while not stop.is_set():
        try:
            slots.put(entry, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False
