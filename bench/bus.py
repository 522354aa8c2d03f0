"""Event bus throughput and publish-to-handler latency, next to a bare asyncio.Queue baseline.

Run: .venv/bin/python bench/bus.py [--events 200000]
Prints events/s for 1 and 3 subscribers and p50/p99 latency (paced publishing), with the same
numbers for a bare asyncio.Queue consumer measured in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.events import Alert, AlertLevel

PAYLOAD = Alert(AlertLevel.INFO, "bench", "x")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def queue_throughput(n: int, consumers: int) -> float:
    queues: list[asyncio.Queue[tuple[int, object]]] = [asyncio.Queue(10_000) for _ in range(consumers)]
    done = asyncio.Event()
    remaining = [n * consumers]

    async def consume(q: asyncio.Queue[tuple[int, object]]) -> None:
        while True:
            await q.get()
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    tasks = [asyncio.create_task(consume(q)) for q in queues]
    start = time.perf_counter()
    for i in range(n):
        item = (i, PAYLOAD)
        for q in queues:
            await q.put(item)
    await done.wait()
    elapsed = time.perf_counter() - start
    for t in tasks:
        t.cancel()
    return n / elapsed


async def bus_throughput(n: int, subscribers: int) -> float:
    bus = EventBus(validate_payloads=True)
    done = asyncio.Event()
    remaining = [n * subscribers]

    def handler(env: Envelope) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set()

    for k in range(subscribers):
        bus.subscribe(Topic.ALERT, handler, name=f"s{k}")
    await bus.start()
    start = time.perf_counter()
    for _ in range(n):
        await bus.publish(Topic.ALERT, PAYLOAD)
    await done.wait()
    elapsed = time.perf_counter() - start
    await bus.stop(drain=False)
    return n / elapsed


async def queue_latency(n: int) -> list[float]:
    q: asyncio.Queue[int] = asyncio.Queue()
    out: list[float] = []
    got = asyncio.Event()

    async def consume() -> None:
        while True:
            sent = await q.get()
            out.append((time.perf_counter_ns() - sent) / 1000)
            got.set()

    task = asyncio.create_task(consume())
    for _ in range(n):
        got.clear()
        q.put_nowait(time.perf_counter_ns())
        await got.wait()
    task.cancel()
    return out


async def bus_latency(n: int, subscribers: int) -> list[float]:
    bus = EventBus()
    out: list[float] = []
    count = [0]
    got = asyncio.Event()

    def handler(env: Envelope) -> None:
        out.append((time.time_ns() - env.published_ns) / 1000)
        count[0] += 1
        if count[0] % subscribers == 0:
            got.set()

    for k in range(subscribers):
        bus.subscribe(Topic.ALERT, handler, name=f"s{k}")
    await bus.start()
    for _ in range(n):
        got.clear()
        await bus.publish(Topic.ALERT, PAYLOAD)
        await got.wait()
    await bus.stop(drain=False)
    return out


async def main(events: int, samples: int) -> None:
    print(f"events={events} latency samples={samples}")
    print(f"{'case':<28}{'events/s':>12}{'vs queue':>10}{'p50 µs':>9}{'p99 µs':>9}")
    for subs in (1, 3):
        base = await queue_throughput(events, subs)
        ours = await bus_throughput(events, subs)
        base_lat = await queue_latency(samples)
        our_lat = await bus_latency(samples, subs)
        print(f"{'asyncio.Queue x' + str(subs):<28}{base:>12,.0f}{1.0:>10.2f}"
              f"{statistics.median(base_lat):>9.1f}{pct(base_lat, 0.99):>9.1f}")
        print(f"{'EventBus, subscribers=' + str(subs):<28}{ours:>12,.0f}{ours / base:>10.2f}"
              f"{statistics.median(our_lat):>9.1f}{pct(our_lat, 0.99):>9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.samples))
