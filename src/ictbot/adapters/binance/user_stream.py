"""User-data streams yielding ``VenueOrderReport``s.

* Spot: WebSocket API ``userDataStream.subscribe.signature`` (the listenKey REST endpoints are gone
  since 2026-02-20); events arrive as ``{"subscriptionId", "event"}``.
* USD-M: ``POST /fapi/v1/listenKey`` + ``PUT`` keepalive, stream ``<fapi_ws>/private/ws/<key>``.

Missed events are never replayed by Binance, so after every (re)subscription the stream calls its
``on_resubscribed`` listeners: the execution layer reconciles by REST there.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ictbot.adapters.binance import parse
from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.errors import LISTEN_KEY_MISSING, translate_ws_api_error
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials, ParamValue, ws_api_payload
from ictbot.adapters.binance.timesync import ServerTime
from ictbot.adapters.binance.wsconn import MAX_CONNECTION_AGE_MS, Backoff, ClientConnection, open_ws
from ictbot.domain.errors import (
    AuthenticationError,
    ExchangeError,
    FinalError,
    InputDataError,
    RetryableError,
    TimestampError,
)
from ictbot.ports.venue import VenueOrderReport

log = structlog.get_logger(__name__)

Listener = Callable[[], Awaitable[None] | None]
# (connected, reason, final): told on every connect, disconnect and permanent stop (health reporting).
StateListener = Callable[[bool, str, bool], None]
_SESSION_ERRORS = (ConnectionClosed, InvalidHandshake, InvalidURI, OSError, TimeoutError, RetryableError)


class _Roll(Exception):
    """Leave the current connection and open a new one (shutdown notice, age, terminated stream)."""


class UserDataStream:
    """Reconnecting reader of one account's order events (base for spot and USD-M)."""

    def __init__(self, *, backoff: Backoff | None = None, max_age_ms: int = MAX_CONNECTION_AGE_MS) -> None:
        self._queue: asyncio.Queue[VenueOrderReport | BaseException] = asyncio.Queue()
        self._listeners: list[Listener] = []
        self._state_listeners: list[StateListener] = []
        self._backoff = backoff or Backoff()
        self._max_age_ms = max_age_ms
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = asyncio.Event()
        self.subscriptions = 0  # successful (re)subscriptions so far

    def add_resubscribe_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_state_listener(self, listener: StateListener) -> None:
        self._state_listeners.append(listener)

    def _tell_state(self, connected: bool, reason: str = "", *, final: bool = False) -> None:
        for listener in self._state_listeners:
            try:
                listener(connected, reason, final)
            except Exception:
                log.exception("user stream state listener failed")

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=type(self).__name__)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.connected.clear()

    async def updates(self) -> AsyncIterator[VenueOrderReport]:
        """Reports in arrival order; raises if the stream failed permanently (e.g. bad key)."""
        await self.start()
        while True:
            item = await self._queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    # ---- loop -----------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            wait = 0.0
            try:
                async with open_ws(await self._url()) as ws:
                    await self._subscribe(ws)
                    self.subscriptions += 1
                    self._backoff.reset()
                    self.connected.set()
                    self._tell_state(True)
                    await self._notify()
                    await self._read(ws)
            except _Roll as roll:
                log.info("user stream rolling over", reason=str(roll))
                self.connected.clear()
                continue
            except (AuthenticationError, FinalError) as exc:
                log.error("user stream stopped", error=str(exc))
                self.connected.clear()
                self._tell_state(False, str(exc), final=True)
                await self._queue.put(exc)
                return
            except _SESSION_ERRORS as exc:
                log.warning("user stream disconnected", error=f"{type(exc).__name__}: {exc}")
                self._tell_state(False, f"{type(exc).__name__}: {exc}")
                if isinstance(exc, RetryableError) and exc.retry_after:
                    wait = max(wait, exc.retry_after)  # rate limited / banned: honour the server's time
            except Exception as exc:
                # An unexpected reply must not silently end the only source of order events.
                log.exception("user stream failed unexpectedly; reconnecting")
                self._tell_state(False, f"unexpected {type(exc).__name__}")
            self.connected.clear()
            await asyncio.sleep(max(wait, self._backoff.next_delay()))

    async def _read(self, ws: ClientConnection) -> None:
        opened = asyncio.get_running_loop().time()
        while True:
            remaining = self._max_age_ms / 1000 - (asyncio.get_running_loop().time() - opened)
            if remaining <= 0:
                raise _Roll("connection age limit")
            raw = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 30.0)):
                    raw = await ws.recv()  # cancel-safe: an interrupted recv loses no frame
            if raw is None:
                await self._idle()
                continue
            try:
                message = json.loads(raw)
            except (json.JSONDecodeError, TypeError):
                log.warning("user stream: undecodable frame")
                continue
            await self._handle(message)

    async def _notify(self) -> None:
        for listener in self._listeners:
            try:
                result = listener()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("resubscribe listener failed")

    async def _emit_event(self, event: dict[str, Any]) -> None:
        kind = event.get("e")
        if kind in ("eventStreamTerminated", "serverShutdown", "listenKeyExpired"):
            raise _Roll(str(kind))
        try:
            report = parse.user_event(event)
        except InputDataError as exc:
            log.error("user stream: unparsable event", error=str(exc))
            return
        if report is not None:
            await self._queue.put(report)

    # ---- hooks ----------------------------------------------------------------------------
    async def _url(self) -> str:
        raise NotImplementedError

    async def _subscribe(self, ws: ClientConnection) -> None:
        raise NotImplementedError

    async def _handle(self, message: Any) -> None:
        raise NotImplementedError

    async def _idle(self) -> None:
        """Called when no frame arrived for a while (keepalive work)."""


class SpotUserDataStream(UserDataStream):
    def __init__(
        self,
        endpoints: BinanceEndpoints,
        credentials: Credentials,
        server_time: ServerTime,
        *,
        resync_time: Callable[[], Awaitable[Any]] | None = None,
        recv_window_ms: int = 5000,
        backoff: Backoff | None = None,
        max_age_ms: int = MAX_CONNECTION_AGE_MS,
    ) -> None:
        super().__init__(backoff=backoff, max_age_ms=max_age_ms)
        self._endpoints = endpoints
        self._credentials = credentials
        self._server_time = server_time
        self._resync_time = resync_time
        self._recv_window = recv_window_ms
        self.subscription_id: int | None = None

    def __repr__(self) -> str:
        return f"SpotUserDataStream(url={self._endpoints.ws_api}, credentials={self._credentials!r})"

    async def _url(self) -> str:
        return self._endpoints.ws_api

    def subscribe_request(self, request_id: str) -> dict[str, Any]:
        params: dict[str, ParamValue] = {
            "apiKey": self._credentials.api_key,
            "recvWindow": self._recv_window,
            "timestamp": self._server_time.now_ms(),
        }
        signed = dict(params)
        signed["signature"] = self._credentials.signer.sign(ws_api_payload(params))
        return {"id": request_id, "method": "userDataStream.subscribe.signature", "params": signed}

    async def _subscribe(self, ws: ClientConnection) -> None:
        for attempt in range(2):
            request_id = str(uuid.uuid4())
            await ws.send(json.dumps(self.subscribe_request(request_id)))
            while True:
                async with asyncio.timeout(10.0):
                    reply = json.loads(await ws.recv())
                if isinstance(reply, dict) and reply.get("id") == request_id:
                    break
            status = int(reply.get("status", 0))
            if status == 200:
                self.subscription_id = int(reply.get("result", {}).get("subscriptionId", 0))
                return
            error = translate_ws_api_error(
                status,
                reply.get("error") or {},
                "userDataStream.subscribe.signature",
                server_now_ms=self._server_time.now_ms(),
            )
            if isinstance(error, TimestampError) and attempt == 0 and self._resync_time is not None:
                await self._resync_time()
                continue
            raise error

    async def _handle(self, message: Any) -> None:
        if isinstance(message, dict) and isinstance(message.get("event"), dict):
            await self._emit_event(message["event"])


class FuturesUserDataStream(UserDataStream):
    """USD-M listenKey stream; the key is kept alive every 30 min and recreated on -1125."""

    LISTEN_KEY_PATH = "/fapi/v1/listenKey"

    def __init__(
        self,
        rest: BinanceRestClient,
        *,
        keepalive_s: float = 30 * 60,
        backoff: Backoff | None = None,
        max_age_ms: int = MAX_CONNECTION_AGE_MS,
    ) -> None:
        super().__init__(backoff=backoff, max_age_ms=max_age_ms)
        self._rest = rest
        self._keepalive_s = keepalive_s
        self._listen_key: str | None = None
        self._last_keepalive = 0.0

    async def _url(self) -> str:
        body = await self._rest.request("POST", self.LISTEN_KEY_PATH, api_key=True)
        self._listen_key = str(body["listenKey"])
        self._last_keepalive = asyncio.get_running_loop().time()
        return self._rest.endpoints.futures_user_stream_url(self._listen_key)

    async def _subscribe(self, ws: ClientConnection) -> None:
        return None  # the listenKey in the URL is the subscription

    async def _handle(self, message: Any) -> None:
        if isinstance(message, dict):
            event = message.get("data", message)  # combined-stream wrapper or raw
            if isinstance(event, dict):
                await self._emit_event(event)
        await self._idle()

    async def _idle(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_keepalive < self._keepalive_s:
            return
        self._last_keepalive = now
        try:
            await self._rest.request("PUT", self.LISTEN_KEY_PATH, api_key=True)
        except ExchangeError as exc:
            if exc.code == LISTEN_KEY_MISSING:
                raise _Roll("listenKey expired") from None
            log.warning("listenKey keepalive failed", error=str(exc))
