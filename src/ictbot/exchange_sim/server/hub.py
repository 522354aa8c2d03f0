"""Fan-out of stream frames to WebSocket connections (market streams and user data).

Each connection owns a queue drained by its sender task; ``flush`` waits until every queued
frame has been handed to its socket, which is what makes ``control.step`` deterministic.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CLOSE = object()


@dataclass(eq=False)
class Connection:
    kind: str  # "spot-market" | "futures-market" | "ws-api" | "futures-user"
    combined: bool = False
    streams: set[str] = field(default_factory=set)
    account: str | None = None
    listen_keys: set[str] = field(default_factory=set)
    subscriptions: dict[int, str] = field(default_factory=dict)  # WS-API subscriptionId → account
    next_subscription_id: int = 0  # ids are never reused within a connection
    queue: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    close_code: int = 1000
    abrupt: bool = False

    def send(self, frame: str) -> None:
        self.queue.put_nowait(frame)

    def close(self, code: int = 1001, abrupt: bool = False) -> None:
        self.close_code = code
        self.abrupt = abrupt
        self.queue.put_nowait(CLOSE)


class StreamHub:
    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self._wanted: Counter[tuple[str, str]] = Counter()

    def add(self, conn: Connection) -> None:
        self.connections.append(conn)
        for stream in conn.streams:
            self._wanted[(conn.kind, stream)] += 1

    def remove(self, conn: Connection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)
            for stream in conn.streams:
                self._wanted[(conn.kind, stream)] -= 1

    def subscribe(self, conn: Connection, streams: list[str]) -> None:
        for stream in streams:
            if stream not in conn.streams:
                conn.streams.add(stream)
                self._wanted[(conn.kind, stream)] += 1

    def unsubscribe(self, conn: Connection, streams: list[str]) -> None:
        for stream in streams:
            if stream in conn.streams:
                conn.streams.discard(stream)
                self._wanted[(conn.kind, stream)] -= 1

    def wants(self, kind: str, stream: str) -> bool:
        return self._wanted[(kind, stream)] > 0

    def publish(self, kind: str, stream: str, payload: dict[str, Any]) -> None:
        if not self.wants(kind, stream):
            return
        raw = json.dumps(payload, separators=(",", ":"))
        wrapped: str | None = None
        for conn in self.connections:
            if conn.kind == kind and stream in conn.streams:
                if conn.combined:
                    if wrapped is None:
                        wrapped = f'{{"stream":"{stream}","data":{raw}}}'
                    conn.send(wrapped)
                else:
                    conn.send(raw)

    def publish_user(self, account: str, payload: dict[str, Any]) -> int:
        """Spot user data over the WS API: ``{"subscriptionId": N, "event": {...}}``."""
        sent = 0
        for conn in self.connections:
            if conn.kind != "ws-api":
                continue
            for sub_id, sub_account in conn.subscriptions.items():
                if sub_account == account:
                    conn.send(json.dumps({"subscriptionId": sub_id, "event": payload}, separators=(",", ":")))
                    sent += 1
        return sent

    def publish_futures_user(self, account: str, payload: dict[str, Any], listen_keys: set[str]) -> None:
        raw = json.dumps(payload, separators=(",", ":"))
        for conn in self.connections:
            if conn.kind == "futures-user" and conn.listen_keys & listen_keys:
                if conn.combined:
                    key = next(iter(conn.listen_keys & listen_keys))
                    conn.send(f'{{"stream":"{key}","data":{raw}}}')
                else:
                    conn.send(raw)

    def server_shutdown(self, now: int, kind: str | None = None, close: bool = True) -> int:
        """Announce a planned disconnect (``serverShutdown``), then optionally close the sockets."""
        event = json.dumps({"e": "serverShutdown", "E": now}, separators=(",", ":"))
        count = 0
        for conn in list(self.connections):
            if kind is not None and conn.kind != kind:
                continue
            if conn.kind == "ws-api":
                conn.send(f'{{"event":{event}}}')
            elif conn.combined:
                conn.send(f'{{"stream":"!serverShutdown","data":{event}}}')
            else:
                conn.send(event)
            if close:
                conn.close(1001)
            count += 1
        return count

    def drop(self, kind: str | None = None, code: int = 1001, abrupt: bool = False) -> int:
        dropped = 0
        for conn in list(self.connections):
            if kind is None or conn.kind == kind:
                conn.close(code, abrupt)
                dropped += 1
        return dropped

    async def flush(self, timeout: float = 10.0) -> None:
        async def _join() -> None:
            for conn in list(self.connections):
                await conn.queue.join()

        await asyncio.wait_for(_join(), timeout)
