"""The ``/ws`` endpoint: authentication, subscriptions, resume and trade commands.

Client -> server (JSON text frames, ``action`` selects the kind):

* ``{"action": "auth", "token": "..."}``          first message, unless ``?token=`` was given
* ``{"action": "subscribe", "types": [...], "since_seq": 123}``   (``since_seq`` optional: resume)
* ``{"action": "unsubscribe", "types": [...]}``
* ``{"action": "resume", "since_seq": 123}``
* ``{"action": "ping", "id": "x"}``
* ``{"action": "command", "id": "x", "command": "close_position", "args": {"position_id": "..."}}``
  commands: ``close_position``, ``enable_strategy``, ``disable_strategy``, ``halt``, ``resume``
  (trade scope only); answered by ``{"type": "ack", "id", "data"}`` or ``{"type": "error", "id",
  "error": {"code", "message", "errors"?}}`` on the same socket.

Close codes: 4401 unauthenticated, 4008 slow consumer, 1013 too many clients, 1001 shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any, Literal

from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from ictbot.api import ws_direct_path
from ictbot.api.auth import Scope, TokenAuthority
from ictbot.api.broadcaster import Broadcaster, WsClient
from ictbot.api.dto import WS_TYPES, Reason
from ictbot.api.dto.fields import Identifier
from ictbot.api.errors import field_errors_from_pydantic
from ictbot.api.settings import ApiSettings
from ictbot.ports.facade import Conflict, FacadeError, NotFound, TradingFacade, ValidationFailed

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TRY_AGAIN = 1013

MessageType = Literal["signal", "order", "position", "metric", "alert", "config", "candle", "indicator"]
RequestId = Annotated[str, Field(max_length=64)]
Seq = Annotated[int, Field(ge=0, le=2**62)]
_STRICT = ConfigDict(extra="forbid")


class AuthMessage(BaseModel):
    model_config = _STRICT
    action: Literal["auth"]
    token: Annotated[str, Field(max_length=512)]
    id: RequestId | None = None


class SubscribeMessage(BaseModel):
    model_config = _STRICT
    action: Literal["subscribe"]
    types: Annotated[list[MessageType], Field(min_length=1, max_length=len(WS_TYPES))]
    since_seq: Seq | None = None
    id: RequestId | None = None


class UnsubscribeMessage(BaseModel):
    model_config = _STRICT
    action: Literal["unsubscribe"]
    types: Annotated[list[MessageType], Field(min_length=1, max_length=len(WS_TYPES))]
    id: RequestId | None = None


class ResumeMessage(BaseModel):
    model_config = _STRICT
    action: Literal["resume"]
    since_seq: Seq
    id: RequestId | None = None


class PingMessage(BaseModel):
    model_config = _STRICT
    action: Literal["ping"]
    id: RequestId | None = None


class PositionArgs(BaseModel):
    model_config = _STRICT
    position_id: Identifier
    reason: Reason = ""


class StrategyArgs(BaseModel):
    model_config = _STRICT
    strategy_id: Identifier


class HaltArgs(BaseModel):
    model_config = _STRICT
    reason: Reason = ""


class NoArgs(BaseModel):
    model_config = _STRICT


class CommandMessage(BaseModel):
    model_config = _STRICT
    action: Literal["command"]
    id: RequestId
    command: Literal["close_position", "enable_strategy", "disable_strategy", "halt", "resume"]
    args: dict[str, Any] = Field(default_factory=dict)


ClientMessage = Annotated[
    AuthMessage | SubscribeMessage | UnsubscribeMessage | ResumeMessage | PingMessage | CommandMessage,
    Field(discriminator="action"),
]
_client_message: TypeAdapter[Any] = TypeAdapter(ClientMessage)


class _StarletteConnection:
    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket

    async def send_text(self, text: str) -> None:
        await self._ws.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        if self._ws.application_state is WebSocketState.CONNECTED:
            await self._ws.close(code, reason)


def _error(request_id: str | None, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "error": {"code": code, "message": message, **extra}}


async def _receive_text(websocket: WebSocket) -> str | None:
    """Next text (or UTF-8 binary) frame; None once the peer has gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        raw = message.get("bytes") or b""
        text = raw.decode("utf-8", "replace")
    return str(text)


def _parse(text: str, max_bytes: int) -> BaseModel | dict[str, Any]:
    """A client message, or an error reply."""
    if len(text) > max_bytes:
        return _error(None, "too_large", f"messages are limited to {max_bytes} bytes")
    try:
        raw = json.loads(text)
    except ValueError:
        return _error(None, "invalid", "message is not JSON")
    request_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    try:
        parsed: BaseModel = _client_message.validate_python(raw)
    except ValidationError as exc:
        errors = [e.model_dump() for e in field_errors_from_pydantic(exc.errors())]
        return _error(request_id, "invalid", "invalid message", errors=errors)
    return parsed


async def _authenticate(websocket: WebSocket, tokens: TokenAuthority, settings: ApiSettings) -> Scope | None:
    query_token = websocket.query_params.get("token")
    if query_token is not None:
        return tokens.scope_of(query_token)
    try:
        text = await asyncio.wait_for(_receive_text(websocket), timeout=settings.ws_auth_timeout_s)
    except TimeoutError:
        return None
    if text is None:
        return None
    parsed = _parse(text, settings.ws_max_message_bytes)
    if not isinstance(parsed, AuthMessage):
        return None
    return tokens.scope_of(parsed.token)


async def run_command(facade: TradingFacade, message: CommandMessage) -> dict[str, Any]:
    """Run one trade command; raises ``ValidationError`` or a ``FacadeError``."""
    args = message.args
    match message.command:
        case "close_position":
            close = PositionArgs.model_validate(args)
            order = await facade.close_position(close.position_id, close.reason or "manual close via WebSocket")
            return order.model_dump(mode="json")
        case "enable_strategy" | "disable_strategy":
            strategy = StrategyArgs.model_validate(args)
            enabled = message.command == "enable_strategy"
            return (await facade.set_strategy_enabled(strategy.strategy_id, enabled)).model_dump(mode="json")
        case "halt":
            halt = HaltArgs.model_validate(args)
            return (await facade.halt_trading(halt.reason or "halted via WebSocket")).model_dump(mode="json")
        case "resume":
            NoArgs.model_validate(args)
            return (await facade.resume_trading()).model_dump(mode="json")
    raise AssertionError(message.command)  # pragma: no cover - Literal covers every command


async def _handle_command(
    facade: TradingFacade, broadcaster: Broadcaster, client: WsClient, message: CommandMessage
) -> None:
    if not client.scope.allows(Scope.TRADE):
        broadcaster.reply(client, _error(message.id, "forbidden", "commands need a trade-scope token"))
        return
    try:
        data = await run_command(facade, message)
    except ValidationError as exc:
        errors = [e.model_dump() for e in field_errors_from_pydantic(exc.errors())]
        reply = _error(message.id, "invalid", "invalid command arguments", errors=errors)
    except NotFound as exc:
        reply = _error(message.id, "not_found", str(exc))
    except Conflict as exc:
        reply = _error(message.id, "conflict", exc.message, reasons=list(exc.reasons))
    except ValidationFailed as exc:
        reply = _error(message.id, "invalid", str(exc), errors=[e.model_dump() for e in exc.errors])
    except FacadeError as exc:
        reply = _error(message.id, "failed", str(exc))
    except Exception:
        reply = _error(message.id, "internal", "command failed")
    else:
        reply = {"type": "ack", "id": message.id, "data": data}
    broadcaster.reply(client, reply)


async def _dispatch(
    parsed: BaseModel, facade: TradingFacade, broadcaster: Broadcaster, client: WsClient
) -> None:
    request_id = getattr(parsed, "id", None)
    if isinstance(parsed, SubscribeMessage):
        gap = broadcaster.subscribe(client, parsed.types, parsed.since_seq)
        broadcaster.reply(client, {"type": "ack", "id": request_id,
                                   "data": {"types": sorted(client.types), "seq": broadcaster.seq, "gap": gap}})
    elif isinstance(parsed, UnsubscribeMessage):
        broadcaster.unsubscribe(client, parsed.types)
        broadcaster.reply(client, {"type": "ack", "id": request_id, "data": {"types": sorted(client.types)}})
    elif isinstance(parsed, ResumeMessage):
        gap = broadcaster.resume(client, parsed.since_seq)
        broadcaster.reply(client, {"type": "ack", "id": request_id, "data": {"seq": broadcaster.seq, "gap": gap}})
    elif isinstance(parsed, PingMessage):
        broadcaster.reply(client, {"type": "pong", "id": request_id, "data": {"seq": broadcaster.seq}})
    elif isinstance(parsed, CommandMessage):
        await _handle_command(facade, broadcaster, client, parsed)
    else:
        broadcaster.reply(client, _error(request_id, "invalid", "already authenticated"))


async def websocket_endpoint(websocket: WebSocket) -> None:
    state = websocket.app.state
    settings: ApiSettings = state.settings
    broadcaster: Broadcaster = state.broadcaster
    await websocket.accept()
    scope = await _authenticate(websocket, state.tokens, settings)
    if scope is None:
        with contextlib.suppress(Exception):
            await websocket.send_text(json.dumps(_error(None, "unauthenticated", "missing or invalid token")))
            await websocket.close(CLOSE_UNAUTHENTICATED, "unauthenticated")
        return
    if len(broadcaster.clients) >= settings.ws_max_clients:
        with contextlib.suppress(Exception):
            await websocket.close(CLOSE_TRY_AGAIN, "too many clients")
        return
    client = broadcaster.register(_StarletteConnection(websocket), scope, ws_direct_path.frame_sink(websocket))
    broadcaster.reply(client, {"type": "welcome", "data": {"scope": scope.value, "seq": broadcaster.seq,
                                                           "types": list(WS_TYPES)}})
    try:
        while not client.closed:
            text = await _receive_text(websocket)
            if text is None:
                break
            parsed = _parse(text, settings.ws_max_message_bytes)
            if isinstance(parsed, dict):
                broadcaster.reply(client, parsed)
            else:
                await _dispatch(parsed, state.facade, broadcaster, client)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        broadcaster.unregister(client)
