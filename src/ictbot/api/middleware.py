"""Pure-ASGI middleware (cheaper than ``BaseHTTPMiddleware``): authentication, body size limit,
security headers."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ictbot.api.auth import TokenAuthority, parse_bearer, required_scope

_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (
        b"content-security-policy",
        b"default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        b"style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    ),
)


class GuardMiddleware:
    """Rejects bodies over ``max_body_bytes`` with 413 and adds security headers to every answer.

    The declared ``content-length`` is checked before the app runs; a chunked body is counted as it
    is read and the read fails with 413 once it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    await JSONResponse({"detail": "invalid content-length"}, 400)(scope, receive, send)
                    return
                if int(value) > self.max_body_bytes:
                    await JSONResponse({"detail": "request body too large"}, 413)(scope, receive, send)
                    return
        limit = self.max_body_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, "request body too large")
            return message

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, limited_receive, secured_send)


_UNAUTHORIZED = JSONResponse({"detail": "missing or invalid bearer token"}, 401,
                             headers={"WWW-Authenticate": "Bearer"})
_FORBIDDEN = JSONResponse({"detail": "this token lacks the 'trade' scope"}, 403)


class AuthMiddleware:
    """Bearer-token check for every HTTP request, before routing (``auth.required_scope``).

    WebSocket connections authenticate in the endpoint (token in the first message or the query).
    """

    def __init__(self, app: ASGIApp, tokens: TokenAuthority) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            needed = required_scope(scope["method"], scope["path"])
            if needed is not None:
                header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
                granted = self.tokens.scope_of(parse_bearer(header.decode("latin-1") if header else None))
                if granted is None:
                    await _UNAUTHORIZED(scope, receive, send)
                    return
                if not granted.allows(needed):
                    await _FORBIDDEN(scope, receive, send)
                    return
        await self.app(scope, receive, send)
