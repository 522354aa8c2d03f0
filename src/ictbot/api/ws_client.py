"""One WebSocket client of the live feed and one serialised message, as the broadcaster keeps them.

A message is serialised once (``WsMessage.text``) and, for the direct path, framed once on first
use (``WsMessage.frame``): every client gets the same bytes. ``finish`` drives a send that was
started inline and had to wait.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from ictbot.api.auth import Scope
from ictbot.api.ws_direct_path import FrameSink, text_frame

CLOSE_SLOW_CONSUMER = 4008
CLOSE_SHUTDOWN = 1001
SLOW_REASON = "slow consumer: reconnect and resume from your last seq"


class Connection(Protocol):
    async def send_text(self, text: str) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


class WsMessage:
    """One serialised message (``seq`` 0 for control replies); its frame is built on first use and
    shared by every direct-path client."""

    __slots__ = ("_frame", "seq", "text", "type")

    def __init__(self, seq: int, message_type: str, text: str) -> None:
        self.seq = seq
        self.type = message_type
        self.text = text
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        frame = self._frame
        if frame is None:
            frame = self._frame = text_frame(self.text.encode())
        return frame


@dataclass(eq=False)
class WsClient:
    id: int
    connection: Connection
    scope: Scope
    maxsize: int
    sink: FrameSink | None = None  # the direct path, when the server protocol offers one
    types: set[str] = field(default_factory=set)
    queue: deque[WsMessage] = field(default_factory=deque)
    sent: int = 0
    last_seq: int = 0  # newest data message handed to this client
    closed: bool = False
    task: asyncio.Task[None] | None = None  # the drain task while a send is waiting

    @property
    def busy(self) -> bool:
        return self.task is not None


async def finish(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Drive a coroutine that was started by hand and suspended, yielding ``yielded``, to its end.

    Does what ``asyncio.Task`` does for a coroutine it runs: wait for the future it is blocked on,
    then resume it; exceptions (cancellation included) are thrown into it.
    """
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                # the future was handed to us still flagged "being awaited"; clear it as Task does
                yielded._asyncio_future_blocking = False
                await yielded
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            yielded = coro.send(None)
        except StopIteration:
            return
