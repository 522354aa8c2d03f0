"""Request dependencies: the facade, scope checks, and fast JSON answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.responses import Response

from ictbot.api.auth import Scope, TokenAuthority
from ictbot.ports.facade import TradingFacade

_bearer = HTTPBearer(auto_error=False, description="API token (read or trade scope)")
_UNAUTHORIZED = HTTPException(
    status_code=401, detail="missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
)


def get_facade(request: Request) -> TradingFacade:
    facade: TradingFacade = request.app.state.facade
    return facade


def _scope_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Scope:
    authority: TokenAuthority = request.app.state.tokens
    scope = authority.scope_of(credentials.credentials if credentials else None)
    if scope is None:
        raise _UNAUTHORIZED
    return scope


def require_read(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Scope:
    return _scope_of(request, credentials)


def require_trade(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Scope:
    scope = _scope_of(request, credentials)
    if not scope.allows(Scope.TRADE):
        raise HTTPException(status_code=403, detail="this token lacks the 'trade' scope")
    return scope


Facade = Annotated[TradingFacade, Depends(get_facade)]
READ = [Depends(require_read)]
TRADE = [Depends(require_trade)]


def json_response(content: BaseModel | Sequence[BaseModel], status_code: int = 200) -> Response:
    """Serialise with pydantic-core directly (Decimal as string) and skip FastAPI's re-validation."""
    if isinstance(content, BaseModel):
        body = content.model_dump_json().encode()
    else:
        body = b"[" + b",".join(item.model_dump_json().encode() for item in content) + b"]"
    return Response(body, status_code=status_code, media_type="application/json")
