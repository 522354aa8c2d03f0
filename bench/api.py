"""API benchmarks (127.0.0.1 only, bounded loops). Run: ``.venv/bin/python bench/api.py``.

1. HTTP: requests/s on /health and /status for the ictbot app vs a bare FastAPI app serving the
   same facade data (no auth, no middleware), measured in the same run, alternating rounds; then
   p50/p99 latency at a fixed request rate (open loop: latency counts from the scheduled send time).
2. WebSocket: one broadcast stream to 1,000 connected clients; delivery latency per message per
   client (server publish wall-clock time -> client receive), p50/p99/max.

Each server runs in its own subprocess (uvicorn, one worker); the load generator is a small raw
asyncio HTTP/1.1 keep-alive client so that the client costs less than the server.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

TOKEN = "bench-trade-token-0123456789abcdef"


# ---- servers (subprocess side) ------------------------------------------------------------------
def _raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def serve(kind: str) -> None:
    import uvicorn
    from fastapi import FastAPI
    from starlette.responses import Response
    from tests.unit.api.fakes import FakeFacade

    from ictbot.api import ApiSettings, create_app
    from ictbot.api.auth import TokenAuthority
    from ictbot.ports.facade import HealthReport, StatusReport

    _raise_fd_limit()
    facade = FakeFacade()
    if kind == "bare":
        app = FastAPI()

        # idiomatic FastAPI: return the model, let FastAPI validate and serialise it
        @app.get("/health", response_model=HealthReport)
        async def health():  # type: ignore[no-untyped-def]
            return await facade.health()

        @app.get("/status", response_model=StatusReport)
        async def status():  # type: ignore[no-untyped-def]
            return await facade.status()
    else:
        fanout_ms: list[float] = []
        fanout_cpu_ms: list[float] = []
        settings = ApiSettings(ws_queue_size=4096, ws_max_clients=5000, ws_heartbeat_s=60)
        app = create_app(facade, settings, tokens=TokenAuthority.from_tokens(TOKEN, None))

        @app.post("/bench/burst")
        async def burst(count: int = 30, interval_ms: float = 100) -> Response:
            async def run() -> None:
                feed = app.state.broadcaster
                profile_path = os.environ.get("ICTBOT_BENCH_PROFILE")  # diagnostics only
                profiler = cProfile.Profile() if profile_path else None
                if profiler:
                    profiler.enable()
                fanout_ms.clear()
                fanout_cpu_ms.clear()
                for i in range(count):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    feed.publish("signal", {"i": i, "t_ns": time.time_ns()})
                    while feed.stats()["fanout_pending"]:  # until every socket write is done
                        await asyncio.sleep(0)
                    fanout_ms.append((time.perf_counter() - started) * 1000)
                    fanout_cpu_ms.append((time.process_time() - cpu_started) * 1000)
                    await asyncio.sleep(interval_ms / 1000)
                if profiler and profile_path:
                    profiler.disable()
                    profiler.dump_stats(profile_path)

            asyncio.get_running_loop().create_task(run())
            return Response(b"{}", media_type="application/json")

        @app.get("/bench/fanout")
        async def fanout() -> Response:
            return Response(json.dumps([fanout_ms, fanout_cpu_ms]).encode(), media_type="application/json")

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    # no server pings: the minimal bench client does not answer them
    config = uvicorn.Config(app, log_level="error", access_log=False, ws_per_message_deflate=False, backlog=4096,
                            ws_ping_interval=None)
    uvicorn.Server(config).run(sockets=[sock])


class Server:
    def __init__(self, kind: str) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", kind], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# ---- HTTP load generator ------------------------------------------------------------------------
class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def request_bytes(path: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").encode()


async def throughput(port: int, path: str, seconds: float, connections: int = 16) -> tuple[float, float]:
    """(requests/s, requests per server CPU-second); the second is robust to a busy machine."""
    import psutil

    server = next(c for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.pid)
    server_proc = psutil.Process(server.pid)
    request = request_bytes(path)
    conns = [await Conn.open(port) for _ in range(connections)]
    for conn in conns:  # warm up
        assert await conn.get(request) in (200, 503)
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(conn: Conn) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            status = await conn.get(request)
            assert status in (200, 503), status
            done += 1

    start, cpu_start = time.perf_counter(), sum(server_proc.cpu_times()[:2])
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - start
    cpu = sum(server_proc.cpu_times()[:2]) - cpu_start
    for conn in conns:
        conn.close()
    return done / elapsed, done / cpu if cpu > 0 else float("nan")


async def fixed_rate(port: int, path: str, rate: float, seconds: float, connections: int = 32) -> tuple[float, float]:
    """(p50, p99) in ms at ``rate`` requests/s; latency measured from the scheduled send time."""
    request = request_bytes(path)
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Conn.open(port))
    latencies: list[float] = []
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)

    async def one(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        conn = await pool.get()
        await conn.get(request)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        pool.put_nowait(conn)

    await asyncio.gather(*(one(i) for i in range(total)))
    while not pool.empty():
        pool.get_nowait().close()
    ordered = sorted(latencies)
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99) - 1]


# ---- WebSocket fan-out --------------------------------------------------------------------------
class RawWebSocket:
    """Minimal RFC 6455 client (text frames, no extensions): 1,000 of them must cost the load
    generator less than the server, which a full client library does not on 2 cores."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, path: str) -> RawWebSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def recv(self) -> bytes:
        _, b1 = await self.reader.readexactly(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(await self.reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await self.reader.readexactly(8), "big")
        return await self.reader.readexactly(length)

    def send(self, text: str) -> None:
        payload = text.encode()
        mask = b"\x01\x02\x03\x04"
        header = bytes([0x81, 0x80 | len(payload)]) if len(payload) < 126 else \
            bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big")
        self.writer.write(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def close(self) -> None:
        self.writer.close()


async def websocket_fanout(port: int, clients: int, messages: int, interval_ms: float) -> list[float]:
    latencies: list[float] = []

    async def open_one() -> RawWebSocket:
        ws = await RawWebSocket.open(port, f"/ws?token={TOKEN}")
        await ws.recv()  # welcome
        ws.send(json.dumps({"action": "subscribe", "types": ["signal"]}))
        await ws.recv()  # ack
        return ws

    sockets: list[RawWebSocket] = []
    for batch in range(0, clients, 50):
        sockets += await asyncio.gather(*(open_one() for _ in range(min(50, clients - batch))))

    async def reader(ws: RawWebSocket) -> None:
        got = 0
        while got < messages:
            frame = await asyncio.wait_for(ws.recv(), timeout=30)
            received = time.time_ns()
            if frame.startswith(b'{"type":"signal"'):
                sent = int(frame.split(b'"t_ns":', 1)[1].split(b"}", 1)[0])
                latencies.append((received - sent) / 1e6)
                got += 1

    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    conn = await Conn.open(port)
    conn.writer.write(f"POST /bench/burst?count={messages}&interval_ms={interval_ms} HTTP/1.1\r\n"
                      f"Host: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\n\r\n".encode())
    head = await conn.reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    await asyncio.wait_for(asyncio.gather(*readers), timeout=120)
    conn.close()
    stats = await Conn.open(port)
    stats.writer.write(f"GET /bench/fanout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
    head = await stats.reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    fanout, fanout_cpu = json.loads(await stats.reader.readexactly(length))
    stats.close()
    print(f"server fan-out per message (publish -> last socket write): wall p50 {pct(fanout, 50):.1f} ms "
          f"p99 {pct(fanout, 99):.1f} ms; CPU p50 {pct(fanout_cpu, 50):.1f} ms "
          f"= {pct(fanout_cpu, 50) / clients * 1000:.0f} us CPU per client")
    for ws in sockets:
        ws.close()
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


async def http_section(servers: dict[str, Server], args: argparse.Namespace) -> None:
    print(f"\n## HTTP throughput ({args.rounds} alternating rounds x {args.seconds:.0f} s, 16 keep-alive connections)")
    for path in ("/health", "/status"):
        rates: dict[str, list[float]] = {"bare": [], "ictbot": []}
        per_cpu: dict[str, list[float]] = {"bare": [], "ictbot": []}
        for _ in range(args.rounds):
            for name, server in servers.items():
                rate, efficiency = await throughput(server.port, path, args.seconds)
                rates[name].append(rate)
                per_cpu[name].append(efficiency)
        bare, ours = statistics.median(rates["bare"]), statistics.median(rates["ictbot"])
        bare_cpu, ours_cpu = statistics.median(per_cpu["bare"]), statistics.median(per_cpu["ictbot"])
        print(f"{path:8s} bare {bare:6.0f} req/s ({bare_cpu:5.0f}/CPU-s) | ictbot {ours:6.0f} req/s "
              f"({ours_cpu:5.0f}/CPU-s) | ratio {ours / bare:.2f}, per CPU-s {ours_cpu / bare_cpu:.2f} "
              "(target >= 0.70)")
    print(f"\n## /status latency at a fixed {args.rate:.0f} req/s for {args.seconds:.0f} s (open loop)")
    for name, server in servers.items():
        p50, p99 = await fixed_rate(server.port, "/status", args.rate, args.seconds)
        print(f"{name:7s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")


async def ws_section(server: Server, args: argparse.Namespace) -> None:
    print(f"\n## WebSocket broadcast: {args.clients} clients x {args.messages} messages "
          f"every {args.interval_ms:.0f} ms")
    import psutil

    server_proc, me = psutil.Process(server.proc.pid), psutil.Process()
    cpu_before = (sum(server_proc.cpu_times()[:2]), sum(me.cpu_times()[:2]))
    wall = time.perf_counter()
    latencies = await websocket_fanout(server.port, args.clients, args.messages, args.interval_ms)
    wall = time.perf_counter() - wall
    server_cpu = sum(server_proc.cpu_times()[:2]) - cpu_before[0]
    client_cpu = sum(me.cpu_times()[:2]) - cpu_before[1]
    print(f"CPU during the run ({wall:.1f} s wall, incl. connecting): server {server_cpu:.1f} s, "
          f"clients {client_cpu:.1f} s")
    print(f"deliveries {len(latencies)}  p50 {pct(latencies, 50):.1f} ms  p99 {pct(latencies, 99):.1f} ms  "
          f"max {max(latencies):.1f} ms  (target p99 < 50 ms)")


async def main(args: argparse.Namespace) -> None:
    _raise_fd_limit()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, "
          f"load average {load}; python {sys.version.split()[0]}")
    kinds = ["ictbot"] if args.only == "ws" else ["bare", "ictbot"]
    servers = {kind: Server(kind) for kind in kinds}
    try:
        if args.only != "ws":
            await http_section(servers, args)
            servers.pop("bare").stop()
        if args.only != "http":
            await ws_section(servers["ictbot"], args)
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", choices=["bare", "ictbot"], help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["http", "ws"])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval-ms", type=float, default=500.0)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(parsed.serve)
    else:
        asyncio.run(main(parsed))
