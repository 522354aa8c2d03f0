"""Tiny HTTP and WebSocket servers on 127.0.0.1 for connection-level tests (no simulator dependency).

``HttpServer`` speaks just enough HTTP/1.1 (one request per connection, ``Connection: close``);
a route may answer, delay, or drop the TCP connection without replying.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


@dataclass
class Request:
    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False  # close the socket without answering (outcome unknown for the client)


Route = Callable[[Request], Reply | Awaitable[Reply]]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    418: "I'm a teapot",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class HttpServer:
    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[Request] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> HttpServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            parts = urlsplit(target)
            request = Request(method, parts.path, parts.query, dict(parse_qsl(parts.query)), headers, body)
            self.requests.append(request)
            reply = self.route(request)
            if not isinstance(reply, Reply):
                reply = await reply
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
            if reply.drop:
                writer.transport.abort()
                return
            payload = json.dumps(reply.body).encode()
            head_out = [
                f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'X')}",
                "Content-Type: application/json",
                f"Content-Length: {len(payload)}",
                "Connection: close",
            ]
            head_out += [f"{k}: {v}" for k, v in reply.headers.items()]
            writer.write(("\r\n".join(head_out) + "\r\n\r\n").encode() + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


WsHandler = Callable[[ServerConnection], Awaitable[None]]


class WsServer:
    def __init__(self, handler: WsHandler) -> None:
        self.handler = handler
        self._server: Server | None = None
        self.port = 0
        self.connections = 0
        self.paths: list[str] = []

    async def _wrapped(self, connection: ServerConnection) -> None:
        self.connections += 1
        self.paths.append(connection.request.path if connection.request else "")
        with contextlib.suppress(ConnectionClosed):
            await self.handler(connection)

    async def __aenter__(self) -> WsServer:
        self._server = await serve(self._wrapped, "127.0.0.1", 0, ping_interval=None, compression=None)
        self.port = self._server.sockets[0].getsockname()[1] if self._server.sockets else 0
        for sock in self._server.sockets:
            self.port = sock.getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"
