"""Pre-framed WebSocket writes straight to a connection's transport (the broadcast fast path).

A speed trick that reads private parts of its dependencies (Starlette's ``WebSocket._receive``,
uvicorn's ``WebSocketsSansIOProtocol`` attributes): it is kept because it earns ~40 % of the server's
CPU per client per message (``bench/api.py --only ws``, docs/benchmarks/api.md), it lives only here,
and ``tests/unit/api/test_direct_path.py::test_the_private_hooks_of_the_direct_path_still_exist``
fails loudly when an upgrade removes what it reads (at run time it would quietly fall back).

A server frame of an unmasked, uncompressed text message is a 2-10 byte header followed by the
payload, so it is the same bytes for every client: the broadcaster builds it once per message and
hands it to each client's transport, skipping Starlette's ``send_text``, the ASGI ``send`` chain
and the protocol library's per-client framing (about 40% of the server's CPU per client per
message: docs/benchmarks/api.md).

The transport is reached through uvicorn's ``websockets-sansio`` protocol (``server.UVICORN_WS_OPTIONS``
selects it): the ASGI ``receive`` it hands the app, which Starlette keeps as ``WebSocket._receive``,
is a bound method of the protocol, which owns
``transport``, the ``websockets`` state machine (``conn``) and a ``writable`` event that follows the
transport's write-buffer high/low water marks. Anything else (Starlette's TestClient, the legacy
``websockets`` or ``wsproto`` protocols, a middleware that wraps ``receive``, a negotiated
permessage-deflate) gives ``None`` and the caller keeps the ordinary ASGI path.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.websockets import WebSocket

try:  # pragma: no branch - both are dependencies; the guard only keeps a future rename harmless
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol as _SansIO
    from websockets.protocol import State as _State
except ImportError:  # pragma: no cover
    _SansIO = None  # type: ignore[assignment,misc]
    _State = None  # type: ignore[assignment,misc]

_REQUIRED = ("transport", "conn", "writable", "close_sent", "disconnected", "handshake_complete")


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame (RFC 6455 section 5.2) carrying ``payload`` (UTF-8)."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload


class FrameSink(Protocol):
    """Where a client's pre-built frames go when it has a direct path."""

    def is_open(self) -> bool:
        """False once a close frame was sent or received, or the connection is gone."""
        ...

    def try_write(self, frame: bytes) -> bool:
        """Write ``frame`` now if open and the write buffer is below its high-water mark."""
        ...

    async def wait_writable(self) -> None:
        """Until the write buffer drains below its low-water mark (or the connection is lost)."""
        ...

    def buffered(self) -> int:
        """Bytes accepted by the transport and not yet taken by the kernel."""
        ...

    def abort(self) -> None:
        """Drop the connection without a closing handshake (a peer that stopped reading)."""
        ...


class SansIOSink:
    """The direct path of one uvicorn ``websockets-sansio`` connection."""

    __slots__ = ("_conn", "_proto", "_transport", "_writable")

    def __init__(self, proto: Any) -> None:
        self._proto = proto
        self._transport = proto.transport
        self._conn = proto.conn
        self._writable = proto.writable

    def is_open(self) -> bool:
        proto = self._proto
        # the transport does not refuse writes while it flushes after close(): check it ourselves so
        # no frame follows a close frame
        return not (proto.close_sent or proto.disconnected or self._transport.is_closing()) \
            and self._conn.state is _State.OPEN

    def try_write(self, frame: bytes) -> bool:
        # one call per client per message on the hot path: the checks of is_open() inlined
        proto, transport = self._proto, self._transport
        if not self._writable.is_set() or proto.close_sent or proto.disconnected or transport.is_closing() \
                or self._conn.state is not _State.OPEN:
            return False
        transport.write(frame)
        return True

    async def wait_writable(self) -> None:
        await self._writable.wait()

    def buffered(self) -> int:
        return int(self._transport.get_write_buffer_size())

    def abort(self) -> None:
        self._transport.abort()


def frame_sink(websocket: WebSocket) -> FrameSink | None:
    """The direct path for an accepted connection, or None to keep using ``websocket.send_text``."""
    if _SansIO is None:  # pragma: no cover
        return None
    proto = getattr(getattr(websocket, "_receive", None), "__self__", None)
    if not isinstance(proto, _SansIO) or not all(hasattr(proto, name) for name in _REQUIRED):
        return None
    extensions = getattr(proto.conn, "extensions", None)
    if not proto.handshake_complete or extensions is None or extensions:
        # compressed frames (permessage-deflate) differ per client: no shared bytes to write
        return None
    return SansIOSink(proto)
