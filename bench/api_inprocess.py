"""Per-request CPU of the ictbot API app next to a bare FastAPI app, called in-process (no sockets).

    .venv/bin/python bench/api_inprocess.py [--requests N] [--rounds K]

`bench/api.py` measures the same two apps over HTTP in uvicorn subprocesses; there the shared HTTP
parsing and socket cost dilutes the apps' difference and two server processes on two busy cores
swing by ±20 %. Here each ASGI app is awaited directly with the same request (bearer token
included), alternating rounds, CPU time per request, medians: the app's own cost (routing,
middleware, serialisation) with nothing else in the way.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI
from tests.unit.api.fakes import FakeFacade

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from ictbot.api.dto import StatusReport
from ictbot.monitoring.reports import HealthReport

TOKEN = "bench-token-" + "x" * 32


def apps() -> dict[str, Any]:
    facade = FakeFacade()
    bare = FastAPI()

    @bare.get("/health", response_model=HealthReport)
    async def health():  # type: ignore[no-untyped-def]
        return await facade.health()

    @bare.get("/status", response_model=StatusReport)
    async def status():  # type: ignore[no-untyped-def]
        return await facade.status()

    return {"bare": bare, "ictbot": create_app(facade, ApiSettings(), tokens=TokenAuthority.from_tokens(TOKEN, None))}


async def call(app: Any, path: str) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {TOKEN}".encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080), "state": {}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


async def cpu_per_request(app: Any, path: str, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        await call(app, path)
    return (time.process_time() - start) / n * 1e6


async def main(requests: int, rounds: int) -> None:
    with open("/proc/loadavg") as f:
        print(f"load average {f.read().split()[0]}; {requests} requests x {rounds} alternating rounds per app")
    built = apps()
    for path in ("/health", "/status"):
        for app in built.values():
            assert await call(app, path) == 200
            await cpu_per_request(app, path, 200)  # warm up
        samples: dict[str, list[float]] = {name: [] for name in built}
        for _ in range(rounds):
            for name, app in built.items():
                samples[name].append(await cpu_per_request(app, path, requests))
        bare, ours = statistics.median(samples["bare"]), statistics.median(samples["ictbot"])
        print(f"{path:8s} bare {bare:6.1f} µs | ictbot {ours:6.1f} µs CPU per request | "
              f"ictbot throughput ratio {bare / ours:.2f} (target >= 0.70)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
