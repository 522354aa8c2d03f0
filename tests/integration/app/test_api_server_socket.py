"""The API server's accepted connections have Nagle off: a response written as headers + body must
not wait for the client's delayed ACK (≈ 40 ms on every other keep-alive request before the fix)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from ictbot.app.api_server import ApiServerService


async def ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_accepted_connections_have_tcp_nodelay() -> None:
    service = ApiServerService(ok_app, "127.0.0.1", 0)
    await service.initialize()
    await service.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"ok")
        assert service._server is not None
        connections = list(service._server.server_state.connections)
        assert len(connections) == 1
        accepted = connections[0].transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        writer.close()
    finally:
        await service.stop()
