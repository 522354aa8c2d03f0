"""Runs an ASGI app with uvicorn inside the bot's event loop, as an orchestrated service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

import uvicorn

from ictbot.app.orchestrator import ServiceHealth, ServiceState


class ApiServerService:
    name = "api"

    def __init__(self, asgi_app: Any, host: str, port: int, *, ws_max_size: int = 16 * 1024) -> None:
        self._app = asgi_app
        self.ws_max_size = ws_max_size
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    async def initialize(self) -> None:
        # Bind early so a busy port is a startup error (not a background task failure) and port 0
        # resolves to a real port before anything prints where to look.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on sockets that say they are TCP, and a
        # plain socket() says proto 0; with Nagle on, a response written as headers + body waits for
        # the client's delayed ACK (~40 ms on every other keep-alive request). Set here as well:
        # accepted sockets inherit it.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]

    async def start(self) -> None:
        from ictbot.api.server import UVICORN_WS_OPTIONS, RedactTokenFilter

        for name in ("uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).addFilter(RedactTokenFilter())
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="on", log_config=None,
                                ws_max_size=self.ws_max_size, server_header=False, **UVICORN_WS_OPTIONS)
        self._server = uvicorn.Server(config)
        # The application owns SIGINT/SIGTERM; uvicorn must not replace those handlers.
        self._server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        assert self._socket is not None
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[self._socket]))
        for _ in range(200):
            if self._server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def health(self) -> ServiceHealth:
        running = self._server is not None and self._server.started and not (self._task and self._task.done())
        return ServiceHealth(ServiceState.HEALTHY if running else ServiceState.STOPPED,
                               f"http://{self.host}:{self.port}")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
