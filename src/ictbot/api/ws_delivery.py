"""Delivery to each WebSocket client: send now when it is idle, queue while it is busy, drop it
when its queue is full (close code 4008), close it without waiting on a stalled peer.

``ClientDelivery`` holds the registered clients; ``Broadcaster`` (numbering, fan-out, resume)
builds on it. Nothing here awaits on the caller's path: a send that cannot complete at once
continues in the client's own drain task.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any

import structlog

from ictbot.api.auth import Scope
from ictbot.api.ws_client import CLOSE_SLOW_CONSUMER, SLOW_REASON, Connection, WsClient, WsMessage, finish
from ictbot.api.ws_direct_path import FrameSink

log = structlog.get_logger(__name__)


class ClientDelivery:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._ids = itertools.count(1)
        self._clients: dict[int, WsClient] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.evicted = 0
        self.close_timeout_s = 2.0

    # ---- clients ------------------------------------------------------------------------------
    @property
    def clients(self) -> list[WsClient]:
        return list(self._clients.values())

    def register(self, connection: Connection, scope: Scope, sink: FrameSink | None = None) -> WsClient:
        client = WsClient(next(self._ids), connection, scope, self.queue_size, sink)
        self._clients[client.id] = client
        return client

    def unregister(self, client: WsClient) -> None:
        client.closed = True
        self._clients.pop(client.id, None)
        task = client.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # ---- sending ------------------------------------------------------------------------------
    def _control(self, client: WsClient, message: WsMessage) -> None:
        if not self._offer(client, message):
            self._drop(client, CLOSE_SLOW_CONSUMER, SLOW_REASON)

    def _offer(self, client: WsClient, message: WsMessage) -> bool:
        """Send now if the client is idle, else queue; False when its queue is full."""
        if client.closed:
            return True
        if client.busy:
            if len(client.queue) >= client.maxsize:
                return False
            client.queue.append(message)
            return True
        if client.sink is not None:
            self._offer_frame(client, client.sink, message)
        else:
            self._offer_text(client, message)
        return True

    def _offer_frame(self, client: WsClient, sink: FrameSink, message: WsMessage) -> None:
        try:
            wrote = sink.try_write(message.frame)
        except Exception:  # as for send_text below: the peer went away
            self._gone(client)
            return
        if wrote:
            client.sent += 1
        elif not sink.is_open():  # closing: the receive loop will see the disconnect
            self._gone(client)
        else:
            client.queue.append(message)
            client.task = asyncio.get_running_loop().create_task(
                self._drain_frames(client, sink), name=f"api.ws.client{client.id}"
            )

    def _offer_text(self, client: WsClient, message: WsMessage) -> None:
        # Started inline ("eager"): with the transport writable it completes without suspending.
        coro = client.connection.send_text(message.text)
        try:
            yielded = coro.send(None)
        except StopIteration:
            client.sent += 1
            return
        except Exception:  # the peer went away; the receive loop will notice too
            self._gone(client)
            return
        client.task = asyncio.get_running_loop().create_task(
            self._drain(client, coro, yielded), name=f"api.ws.client{client.id}"
        )

    async def _drain(self, client: WsClient, pending: Coroutine[Any, Any, None], yielded: Any) -> None:
        """Finish the send that had to wait, then send whatever queued up meanwhile, in order."""
        try:
            await finish(pending, yielded)
            client.sent += 1
            while client.queue and not client.closed:
                await client.connection.send_text(client.queue.popleft().text)
                client.sent += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self._gone(client)
        finally:
            client.task = None

    async def _drain_frames(self, client: WsClient, sink: FrameSink) -> None:
        """Direct path: write the queued frames in order as the transport's buffer drains."""
        try:
            while client.queue and not client.closed:
                await sink.wait_writable()
                if not sink.is_open():
                    self._gone(client)
                    return
                while client.queue and sink.try_write(client.queue[0].frame):
                    client.queue.popleft()
                    client.sent += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self._gone(client)
        finally:
            client.task = None

    # ---- leaving ------------------------------------------------------------------------------
    def _gone(self, client: WsClient) -> None:
        client.closed = True
        client.queue.clear()
        self._clients.pop(client.id, None)

    def _drop(self, client: WsClient, code: int, reason: str) -> None:
        if client.closed:
            return
        if code == CLOSE_SLOW_CONSUMER:
            self.evicted += 1
            log.warning("websocket client dropped", client=client.id, reason=reason, queued=len(client.queue))
        self.unregister(client)
        client.queue.clear()
        task = asyncio.get_running_loop().create_task(self._close(client, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, client: WsClient, code: int, reason: str) -> None:
        # A stalled peer may never complete the close handshake; do not wait on it forever.
        try:
            await asyncio.wait_for(client.connection.close(code, reason), timeout=self.close_timeout_s)
        except Exception:
            if client.sink is not None:  # free its buffers now rather than at the peer's leisure
                client.sink.abort()
