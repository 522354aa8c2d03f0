"""Mapping of expected failures to HTTP answers; nothing a client sends should become a 500.

Bodies are small and never echo the client's input back (a mistyped secret stays out of logs and
responses): 401/403 ``{"detail"}``, 404 ``{"detail"}``, 409 ``{"detail", "reasons"}``,
422 ``{"detail", "errors": [{"field", "reason"}]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from ictbot.ports.facade import Conflict, FieldError, NotFound, ValidationFailed

log = structlog.get_logger(__name__)


def field_errors_from_pydantic(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Pydantic/FastAPI error dicts -> ``FieldError`` (location joined by dots, no input echo)."""
    found: list[FieldError] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        found.append(FieldError(field=".".join(loc) or "body", reason=str(error.get("msg", "invalid"))))
    return found


def _errors_body(errors: Sequence[FieldError]) -> dict[str, Any]:
    return {"detail": "validation failed", "errors": [e.model_dump() for e in errors]}


async def _validation_failed(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationFailed)
    return JSONResponse(_errors_body(exc.errors), status_code=422)


async def _request_invalid(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(_errors_body(field_errors_from_pydantic(exc.errors())), status_code=422)


async def _not_found(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _conflict(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Conflict)
    return JSONResponse({"detail": exc.message, "reasons": list(exc.reasons)}, status_code=409)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug behind the facade; the client gets no internals, the log gets the type and route only
    # (never the request body or headers, which may hold tokens).
    log.error("api request failed", path=request.url.path, method=request.method, error=type(exc).__name__)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ValidationFailed, _validation_failed)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
