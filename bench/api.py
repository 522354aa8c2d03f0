"""API benchmarks (127.0.0.1 only, bounded loops). Run: ``.venv/bin/python bench/api.py``.

1. HTTP: requests/s on /health and /status for the ictbot app vs a bare FastAPI app serving the
   same facade data (no auth, no middleware), measured in the same run, alternating rounds; then
   p50/p99 latency at a fixed request rate (open loop: latency counts from the scheduled send time).
2. WebSocket: one broadcast stream to 1,000 connected clients; delivery latency per message per
   client (server publish wall-clock time -> client receive), p50/p99/max, server CPU per client
   per message and load-generator CPU per delivery; the ASGI send path and the direct (pre-framed)
   path on two identical servers, alternating rounds.

Each server runs in its own subprocess (uvicorn, one worker); the HTTP load generator is a small raw
asyncio HTTP/1.1 keep-alive client, the WebSocket one plain sockets on one epoll, so that the load
generator costs less than the server.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import resource
import select
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
    from ictbot.api.dto import StatusReport
    from ictbot.monitoring.reports import HealthReport

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
        if kind == "ictbot-asgi":  # the "before" variant: every message through the ASGI send path
            from ictbot.api import ws_direct_path

            ws_direct_path.frame_sink = lambda websocket: None
        fanout_ms: list[float] = []
        fanout_cpu_ms: list[float] = []
        running: list[asyncio.Task[None]] = []
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
                    if i:
                        await asyncio.sleep(interval_ms / 1000)
                    started, cpu_started = time.perf_counter(), time.process_time()
                    feed.publish("signal", {"i": i, "t_ns": time.time_ns()})
                    while feed.fanout_pending:  # until every socket write is done
                        await asyncio.sleep(0)
                    fanout_ms.append((time.perf_counter() - started) * 1000)
                    fanout_cpu_ms.append((time.process_time() - cpu_started) * 1000)
                if profiler and profile_path:
                    profiler.disable()
                    profiler.dump_stats(profile_path)

            running[:] = [asyncio.get_running_loop().create_task(run())]
            return Response(b"{}", media_type="application/json")

        @app.get("/bench/fanout")
        async def fanout() -> Response:
            await asyncio.gather(*running)
            direct = app.state.broadcaster.stats()["direct"]
            loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
            return Response(json.dumps([fanout_ms, fanout_cpu_ms, direct, loop]).encode(),
                            media_type="application/json")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # as ApiServerService
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    # no server pings: the minimal bench client does not answer them
    # uvloop is not a project dependency: ICTBOT_BENCH_UVLOOP=<folder with uvloop installed> to compare
    uvloop_dir = os.environ.get("ICTBOT_BENCH_UVLOOP")
    if uvloop_dir:
        sys.path.append(uvloop_dir)
    config = uvicorn.Config(app, log_level="error", access_log=False, ws_per_message_deflate=False, backlog=4096,
                            ws_ping_interval=None, loop="uvloop" if uvloop_dir else "asyncio")
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
# The 1,000 clients share the two cores with the server, so whatever they spend per message is
# added to the measured latency: they are plain non-blocking sockets on one epoll, no asyncio, no
# client library; each frame is located by its header and only the publish timestamp is parsed.
_T_NS = b'"t_ns":'
_UPGRADE = ("GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def client_frame(text: str) -> bytes:
    """A masked client text frame (RFC 6455: clients must mask; an all-zero mask keeps it cheap)."""
    payload = text.encode()
    assert len(payload) < 126
    return bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload


def split_frames(buf: bytes) -> tuple[list[bytes], bytes]:
    """Complete frames' payloads in ``buf`` (server frames: unmasked) and the incomplete rest."""
    payloads: list[bytes] = []
    pos, size = 0, len(buf)
    while size - pos >= 2:
        length, start = buf[pos + 1] & 0x7F, pos + 2
        if length == 126:
            length, start = int.from_bytes(buf[pos + 2:pos + 4], "big"), pos + 4
        elif length == 127:
            length, start = int.from_bytes(buf[pos + 2:pos + 10], "big"), pos + 10
        if start + length > size:
            break
        payloads.append(buf[start:start + length])
        pos = start + length
    return payloads, buf[pos:]


def read_frames(sock: socket.socket, buf: bytes, count: int) -> bytes:
    """Block until ``count`` frames arrived on ``sock``; returns what follows them."""
    got = 0
    while True:
        payloads, rest = split_frames(buf)
        if got + len(payloads) >= count:
            return rest
        got += len(payloads)
        buf = rest + sock.recv(65536)


def open_clients(port: int, clients: int) -> list[socket.socket]:
    """Upgrade, authenticate (query token) and subscribe to ``signal``, 100 connections at a time."""
    sockets: list[socket.socket] = []
    for batch in range(0, clients, 100):
        group = [socket.create_connection(("127.0.0.1", port)) for _ in range(min(100, clients - batch))]
        for sock in group:
            sock.sendall(_UPGRADE.format(token=TOKEN).encode())
        for sock in group:
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(4096)
            head, buf = buf.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 101"), head
            buf = read_frames(sock, buf, 1)  # welcome
            sock.sendall(client_frame(json.dumps({"action": "subscribe", "types": ["signal"]})))
            assert not read_frames(sock, buf, 1)  # ack; nothing else is published yet
        sockets += group
    for sock in sockets:
        sock.setblocking(False)
    return sockets


def http_call(port: int, method: str, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head
    return body


def receive_all(
    sockets: list[socket.socket], messages: int, timeout_s: float, batch: int = 64, pause_s: float = 0.001
) -> tuple[list[int], float]:
    """(latencies in ns, client CPU seconds) once every socket has ``messages`` timestamps."""
    poller = select.epoll(len(sockets))
    by_fd = {sock.fileno(): sock for sock in sockets}
    pending = dict.fromkeys(by_fd, b"")
    missing = dict.fromkeys(by_fd, messages)
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    latencies: list[int] = []
    record, now_ns = latencies.append, time.time_ns
    deadline = time.monotonic() + timeout_s
    cpu = time.process_time()
    while missing and time.monotonic() < deadline:
        events = poller.poll(1.0)
        if len(events) < batch and len(events) < len(missing):
            # let more sockets become readable: one wake-up per ~batch deliveries instead of one
            # per delivery (a wake-up costs the server's send path too); adds <= pause_s to a latency
            time.sleep(pause_s)
            events = poller.poll(0)
        for fd, _ in events:
            data = by_fd[fd].recv(16384)  # small: recv allocates this much first
            received = now_ns()
            if not data:
                raise ConnectionError("server closed a client connection")
            payloads, pending[fd] = split_frames(pending[fd] + data if pending[fd] else data)
            for payload in payloads:
                at = payload.find(_T_NS)
                if at >= 0:
                    record(received - int(payload[at + 7:payload.index(b"}", at)]))
                    missing[fd] -= 1
                    if not missing[fd]:
                        del missing[fd]
    cpu = time.process_time() - cpu
    poller.close()
    if missing:
        raise TimeoutError(f"{len(missing)} clients still waiting")
    return latencies, cpu


class FanoutRun:
    """One burst: delivery latencies (ms), server fan-out wall and CPU per message (ms), load
    generator CPU while receiving (s), clients the server served on the direct path."""

    def __init__(self, port: int, clients: int, messages: int, interval_ms: float) -> None:
        sockets = open_clients(port, clients)
        try:
            http_call(port, "POST", f"/bench/burst?count={messages}&interval_ms={interval_ms}")
            latencies_ns, self.client_cpu = receive_all(sockets, messages, 60 + messages * interval_ms / 1000)
            self.fanout_ms, self.fanout_cpu_ms, self.direct, self.loop = json.loads(
                http_call(port, "GET", "/bench/fanout"))
        finally:
            for sock in sockets:
                sock.close()
        self.latencies = [ns / 1e6 for ns in latencies_ns]


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


WS_VARIANTS = {"ictbot-asgi": "ASGI send path", "ictbot": "direct path"}


def ws_section(servers: dict[str, Server], args: argparse.Namespace) -> None:
    """The ASGI send path and the direct path, alternating rounds against identical servers."""
    print(f"\n## WebSocket broadcast: {args.clients} clients x {args.messages} messages every "
          f"{args.interval_ms:.0f} ms, {args.ws_rounds} alternating rounds per variant")
    runs: dict[str, list[FanoutRun]] = {kind: [] for kind in WS_VARIANTS}
    for round_no in range(args.ws_rounds):
        for kind, label in WS_VARIANTS.items():
            load = os.getloadavg()[0]
            run = FanoutRun(servers[kind].port, args.clients, args.messages, args.interval_ms)
            runs[kind].append(run)
            print(f"round {round_no + 1} {label:15s} load {load:4.1f} | direct clients {run.direct:4d} | "
                  f"fan-out CPU {statistics.median(run.fanout_cpu_ms) / args.clients * 1000:5.1f} us/client, "
                  f"wall p50 {pct(run.fanout_ms, 50):5.1f} ms | load generator "
                  f"{run.client_cpu / len(run.latencies) * 1e6:4.1f} us/delivery | delivery p50 "
                  f"{pct(run.latencies, 50):5.1f} p99 {pct(run.latencies, 99):5.1f} max {max(run.latencies):5.1f} ms")
    print(f"all rounds (server event loop: {runs['ictbot'][0].loop}):")
    for kind, label in WS_VARIANTS.items():
        latencies = [x for run in runs[kind] for x in run.latencies]
        cpu = [x for run in runs[kind] for x in run.fanout_cpu_ms]
        print(f"  {label:15s} fan-out CPU median {statistics.median(cpu) / args.clients * 1000:5.1f} us/client | "
              f"deliveries {len(latencies)} p50 {pct(latencies, 50):5.1f} ms p99 {pct(latencies, 99):5.1f} ms "
              f"max {max(latencies):5.1f} ms (target p99 < 50 ms)")


async def main(args: argparse.Namespace) -> None:
    _raise_fd_limit()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, "
          f"load average {load}; python {sys.version.split()[0]}")
    servers: dict[str, Server] = {}
    try:
        if args.only != "ws":
            servers.update((kind, Server(kind)) for kind in ("bare", "ictbot"))
            await http_section(servers, args)
            servers.pop("bare").stop()
        if args.only != "http":
            servers.update((kind, Server(kind)) for kind in WS_VARIANTS if kind not in servers)
            ws_section(servers, args)
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", choices=["bare", "ictbot", "ictbot-asgi"], help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["http", "ws"])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval-ms", type=float, default=500.0)
    parser.add_argument("--ws-rounds", type=int, default=2)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(parsed.serve)
    else:
        asyncio.run(main(parsed))
