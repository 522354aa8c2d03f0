"""The webhook side of ``bench/execution.py``: the trade journal and a notifier on the bench's bus
(as the app wires them), a local server that answers 200 and a URL where nothing listens."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from ictbot.bus import EventBus, Topic
from ictbot.domain.events import Alert
from ictbot.risk import CircuitBreakers


def attach_notifier(bus: EventBus, breakers: CircuitBreakers, url: str) -> Any:
    """The trade journal plus a notifier posting every record to ``url`` (as the app wires them)."""
    from ictbot.monitoring.journal import TradeJournal
    from ictbot.notify.config import WebhookOptions
    from ictbot.notify.dispatcher import Notifier, failure_message
    from ictbot.notify.webhook import WebhookChannel

    async def on_failing(channel: str, error: str) -> None:
        level, message = failure_message(channel, error)
        await bus.publish(Topic.ALERT, Alert(level, "notify", message, {"channel": channel}))

    journal = TradeJournal(bus, trading_state=lambda: breakers.trading_state.value)
    notifier = Notifier(on_failing)
    options = WebhookOptions(url=url, max_per_minute=600, backoff_seconds=0.05)
    notifier.add(WebhookChannel("bench", url, secret="bench-secret"), options)
    journal.add_sink(notifier.submit)
    journal.attach()
    return notifier


class UpServer:
    """A local HTTP server answering every request 200 (the webhook that is up)."""

    def __init__(self) -> None:
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                self.requests += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens once the probe is closed
