"""A tiny Binance-style klines server on 127.0.0.1 (stdlib ``http.server`` in a thread).

Serves ``GET /api/v3/klines`` (documented row format, ``startTime``/``endTime``/``limit``, max
1000) and ``GET /api/v3/time`` from a list of generated candles. It can answer 429 with
``Retry-After`` for the next N kline requests, or 503 for every kline request after a given count
(an outage that interrupts a download), and records each request's ``startTime``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class KlineData:
    interval_ms: int
    rows: list[list[Any]]
    starts: list[int] = field(default_factory=list)
    throttle_next: int = 0
    fail_after: int | None = None
    served: int = 0
    used_weight: int = 0


def make_rows(start_ms: int, count: int, interval_ms: int) -> list[list[Any]]:
    rows = []
    for i in range(count):
        price = 30_000 + (i % 97) * 1.25
        rows.append(
            [
                start_ms + i * interval_ms,
                f"{price:.8f}",
                f"{price + 10:.8f}",
                f"{price - 10:.8f}",
                f"{price + 2.5:.8f}",
                f"{1 + i % 7}.12345678",
                start_ms + (i + 1) * interval_ms - 1,
                f"{(1 + i % 7) * price:.8f}",
                100 + i % 50,
                "0.5",
                "15000.0",
                "0",
            ]
        )
    return rows


def _handler(data: KlineData) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/api/v3/time":
                self._send(200, {"serverTime": int(time.time() * 1000)})
                return
            if url.path != "/api/v3/klines":
                self._send(404, {"code": -1, "msg": "not found"})
                return
            start = int(query.get("startTime", 0))
            data.starts.append(start)
            if data.throttle_next > 0:
                data.throttle_next -= 1
                self._send(429, {"code": -1003, "msg": "Too many requests"}, {"Retry-After": "7"})
                return
            if data.fail_after is not None and data.served >= data.fail_after:
                self._send(503, {"code": -1001, "msg": "Service Unavailable."})
                return
            data.served += 1
            end = int(query["endTime"]) if "endTime" in query else None
            limit = min(int(query.get("limit", 500)), 1000)
            rows = [r for r in data.rows if r[0] >= start and (end is None or r[0] <= end)][:limit]
            data.used_weight += 2
            self._send(200, rows, {"X-MBX-USED-WEIGHT-1M": str(data.used_weight)})

    return Handler


@contextmanager
def serve_klines(data: KlineData) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(data))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
